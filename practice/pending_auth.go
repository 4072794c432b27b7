package practice

// TEMPORARY: what user management needs of sign-in, until it lands.

// passwordHash checks a new password and hashes it.
func (s *Service) passwordHash(field, password string) (string, error) {
	if len(password) < 12 {
		return "", invalid(field, "must be at least 12 characters")
	}
	return "", errNotYet
}

// forgetUser drops what sign-in caches of a user.
func (s *Service) forgetUser(id int64) {}

package practice

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id and kept as a PHC string,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// (salt and hash in unpadded standard base64), so that the parameters
// of each hash travel with it and can be raised later: a hash made with
// weaker ones than passwordParams is made again at the user's next
// sign-in.
type argonParams struct {
	// Memory in KiB, Time (passes) and Threads, as argon2.IDKey takes them.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// passwordParams are OWASP's first recommended argon2id configuration
// (m=19 MiB, t=2, p=1): about 20-40 ms of one core per check.
var passwordParams = argonParams{Memory: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordChars and MaxPasswordBytes bound a password: long enough
	// to resist guessing without rules about its characters, short enough
	// that hashing it costs nothing extra.
	MinPasswordChars = 12
	MaxPasswordBytes = 256
)

// The bounds a stored hash's parameters must keep before a check runs
// them, so that a damaged or hostile row cannot make a sign-in allocate
// gigabytes or spin for minutes.
const (
	maxArgonMemory  = 1 << 20 // 1 GiB
	maxArgonTime    = 64
	maxArgonThreads = 64
)

var errBadHash = errors.New("practice: malformed password hash")

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC string of password under passwordParams,
// with a fresh random salt.
func hashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("practice: password salt: %w", err)
	}
	return encodeHash(passwordParams, salt, argon2.IDKey([]byte(password), salt,
		passwordParams.Time, passwordParams.Memory, passwordParams.Threads, keyLen)), nil
}

func encodeHash(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parseHash reads a PHC string of argon2id.
func parseHash(phc string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) != parts[3] {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", errBadHash, parts[3])
	}
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory || p.Time < 1 || p.Time > maxArgonTime ||
		p.Threads < 1 || p.Threads > maxArgonThreads {
		return p, nil, nil, fmt.Errorf("%w: parameters %q out of bounds", errBadHash, parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", errBadHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, fmt.Errorf("%w: hash", errBadHash)
	}
	return p, salt, key, nil
}

// checkPassword reports whether password hashes to phc, comparing in
// constant time. A malformed phc is an error, never a match.
func checkPassword(phc, password string) (bool, error) {
	p, salt, key, err := parseHash(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// needsRehash reports whether phc was made with weaker parameters than
// passwordParams (or is not ours to read).
func needsRehash(phc string) bool {
	p, _, key, err := parseHash(phc)
	return err != nil || p.Memory < passwordParams.Memory || p.Time < passwordParams.Time ||
		p.Threads < passwordParams.Threads || len(key) < keyLen
}

var dummy struct {
	once sync.Once
	hash string
}

// dummyHash is a hash of no one's password under passwordParams: a
// sign-in for an unknown email checks against it, so that it takes as
// long as one for a known email and the timing does not tell which
// emails have accounts.
func dummyHash() string {
	dummy.once.Do(func() {
		salt := make([]byte, saltLen)
		_, _ = rand.Read(salt)
		dummy.hash = encodeHash(passwordParams, salt, argon2.IDKey([]byte("no one's password"), salt,
			passwordParams.Time, passwordParams.Memory, passwordParams.Threads, keyLen))
	})
	return dummy.hash
}

// ValidatePassword refuses a password shorter than MinPasswordChars
// characters or longer than MaxPasswordBytes bytes, with a
// *FieldError on "password" that says which. It asks for nothing
// else: length is what resists guessing.
func ValidatePassword(password string) error {
	switch {
	case len(password) > MaxPasswordBytes:
		return invalid("password", "must be at most %d bytes long", MaxPasswordBytes)
	case utf8.RuneCountInString(password) < MinPasswordChars:
		return invalid("password", "must be at least %d characters long", MinPasswordChars)
	}
	return nil
}

// MaxEmailLen bounds an email address (RFC 5321's path limit).
const MaxEmailLen = 254

// ValidateEmail refuses anything but a bare address (ann@example.org):
// no display name, no angle brackets, no spaces around it, no CR or LF,
// at most MaxEmailLen characters. It returns a *FieldError on "email".
func ValidateEmail(email string) error { return checkEmail("email", email, true) }

// validateName refuses an empty name, one with control characters or
// spaces around it, or one longer than the column holds.
func validateName(name string) error { return checkName("name", name) }

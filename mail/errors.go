package mail

import "errors"

// ErrRejected marks a message the mail server refused for good (a 5xx
// reply to the recipient or the content): retrying it cannot succeed.
var ErrRejected = errors.New("mail: message rejected")

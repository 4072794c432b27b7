package practice

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Input limits, as the API's contract states them.
const (
	maxName = 255
	maxText = 10000
	maxNote = 1000
)

// checkText refuses a field that is too long, not UTF-8 or, when oneLine,
// holds a line break or another control character.
func checkText(field, v string, max int, oneLine bool) error {
	switch {
	case !utf8.ValidString(v):
		return invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		return invalid(field, "is longer than %d characters", max)
	}
	for _, r := range v {
		if r == '\n' || r == '\r' || r == '\t' {
			if oneLine {
				return invalid(field, "must be one line")
			}
			continue
		}
		if r < 0x20 || r == 0x7f {
			return invalid(field, "holds a control character")
		}
	}
	return nil
}

// checkName refuses an empty or malformed name, or one with spaces
// around it.
func checkName(field, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return invalid(field, "is required")
	case strings.TrimSpace(v) != v:
		return invalid(field, "must not start or end with spaces")
	}
	return checkText(field, v, maxName, true)
}

// checkEmail refuses anything but a bare address (no display name).
func checkEmail(field, v string, required bool) error {
	if v == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if err := checkText(field, v, MaxEmailLen, true); err != nil {
		return err
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return invalid(field, "must be an email address such as name@example.org, without a name or brackets")
	}
	return nil
}

// checkIdentifiers refuses identifiers without a value or overlong.
func checkIdentifiers(field string, ids []connector.Identifier) error {
	if len(ids) > 20 {
		return invalid(field, "holds more than 20 identifiers")
	}
	for _, id := range ids {
		if strings.TrimSpace(id.Value) == "" {
			return invalid(field, "holds an identifier without a value")
		}
		if err := checkText(field, id.System, maxName, true); err != nil {
			return err
		}
		if err := checkText(field, id.Value, maxName, true); err != nil {
			return err
		}
	}
	return nil
}

// checkRange refuses a time range whose end is not after its start.
func checkRange(field string, from, to time.Time) error {
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return invalid(field, "ends before it starts: 'to' must be after 'from'")
	}
	return nil
}

// checkType refuses an unknown document type; empty is allowed when
// optional.
func checkType(field string, t connector.DocumentType, optional bool) error {
	if (t == "" && optional) || t.Valid() {
		return nil
	}
	return invalid(field, "must be one of lab_result, progress_note, physical_assessment, other")
}

package connector

import "strings"

// CompareVersions orders two Source versions: -1 if a is older than b, 0 if
// equal, +1 if newer. Versions made only of decimal digits (FHIR
// meta.versionId as most servers issue it) compare as numbers of any length;
// others compare as strings. The empty version is older than any other.
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	if digits(a) && digits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

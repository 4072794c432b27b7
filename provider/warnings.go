package provider

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
)

// Start-up checks for a server to log: configurations that work but
// expose credentials or patient data. Each returns "" when there is
// nothing to say; none is enforced by New, as a test setup or a sidecar
// proxy may want exactly what they warn about.

// InsecureURLWarning returns a warning when rawURL is plain http:// to a
// host other than loopback (localhost, 127.0.0.0/8, ::1): bearer tokens,
// client assertions and patient data would cross the network
// unencrypted. It returns "" for https, for loopback, and for a value
// that does not parse (New reports that).
func InsecureURLWarning(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || u.Host == "" || isLoopback(u.Hostname()) {
		return ""
	}
	return fmt.Sprintf("%s is plain http to a host that is not loopback: credentials and patient data travel unencrypted; use https", RedactURL(rawURL))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// KeyFileWarning returns a warning when the private key file at path
// (SMARTConfig.KeyFile) can be read, written or run by its group or by
// others (mode&0o077 != 0): whoever reads it can act as the client. It
// follows symbolic links, as the key is read through them. It returns an
// error when the file cannot be examined, and "" on Windows, whose file
// modes say nothing of this.
func KeyFileWarning(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("smart key file: %w", err)
	}
	if runtime.GOOS == "windows" {
		return "", nil
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("smart key file %s has mode %04o: group or others have access to it; chmod 600 it", path, perm), nil
	}
	return "", nil
}

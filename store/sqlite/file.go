package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"
)

// ErrSharedFile means the database file, or its -wal or -shm file, may be
// read or written by users other than its owner. The database holds
// patients' names and documents: Open refuses such a file unless the name
// carries mode_check=off.
var ErrSharedFile = errors.New("database file is open to other users")

// ModeCheckOff is the parameter that makes Open accept an existing
// database file that other users may read or write:
// file:/var/lib/hr/records.db?mode_check=off (or, through storeurl,
// sqlite:///var/lib/hr/records.db?mode_check=off).
const ModeCheckOff = "mode_check=off"

// sharedBits are the permission bits that let group or others read or
// write a file.
const sharedBits fs.FileMode = 0o066

// location is where a name given to Open points.
type location struct {
	// path is the file's name on disk, or ":memory:".
	path string
	// allowShared accepts an existing file open to other users.
	allowShared bool
}

func (l location) inMemory() bool { return l.path == ":memory:" }

// FilePath returns the name on disk of the file Open(ctx, name, cfg) opens,
// for a caller that checks the file before opening it; ":memory:" for an
// in-memory database. It fails on a name Open would refuse.
func FilePath(name string) (string, error) {
	l, err := parseName(name)
	return l.path, err
}

// parseName reads a name given to Open: a plain path is the file's name as
// it is; a file: URI is read as SQLite reads one (percent-decoded, query
// after '?'), and its only accepted parameter is mode_check, since the
// store sets the connection's parameters itself.
func parseName(name string) (location, error) {
	rest, isURI := strings.CutPrefix(name, "file:")
	if !isURI {
		if name == "" {
			return location{}, errors.New("sqlite: empty database path")
		}
		return location{path: name}, nil
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		host, p, _ := strings.Cut(after, "/")
		if host != "" && host != "localhost" {
			return location{}, fmt.Errorf("sqlite: database uri %q names host %q: only a local file can be opened", name, host)
		}
		rest = "/" + p
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		return location{}, fmt.Errorf("sqlite: database uri %q: %w", name, err)
	}
	if path == "" {
		return location{}, errors.New("sqlite: empty database path")
	}
	l := location{path: path}
	q, err := url.ParseQuery(query)
	if err != nil {
		return location{}, fmt.Errorf("sqlite: database uri %q: %w", name, err)
	}
	for k, vs := range q {
		if k != "mode_check" {
			return location{}, fmt.Errorf("sqlite: database uri %q: unknown parameter %q: only %s is accepted", name, k, ModeCheckOff)
		}
		for _, v := range vs {
			switch v {
			case "off":
				l.allowShared = true
			case "on":
			default:
				return location{}, fmt.Errorf("sqlite: database uri %q: mode_check=%q: want off or on", name, v)
			}
		}
	}
	return l, nil
}

// uriPath escapes path for a file: URI, which SQLite percent-decodes and
// ends at '?' or '#'.
func uriPath(path string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if strings.HasPrefix(p, "//") {
		// An empty authority, so that the path's leading slashes stay.
		return "//" + p
	}
	return p
}

// prepareFile creates the database file readable by its owner only, or
// checks that an existing one is (with its -wal and -shm files), before
// the driver opens it: SQLite would create it 0644, and it gives the -wal
// and -shm files the main file's permissions.
//
// The process umask is left alone: this is library code. The directory
// must exist.
func prepareFile(l location) error {
	if l.inMemory() || runtime.GOOS == "windows" {
		// Windows has no permission bits to check.
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		// The umask may have cleared the owner's bits; the file is ours.
		err = f.Chmod(0o600)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sqlite: create database file: %w", err)
		}
		return nil
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("sqlite: create database file: %w", err)
	}
	for _, name := range []string{l.path, l.path + "-wal", l.path + "-shm"} {
		fi, err := os.Stat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && name != l.path:
			continue
		case err != nil:
			return fmt.Errorf("sqlite: %w", err)
		case fi.IsDir():
			return fmt.Errorf("sqlite: %s is a directory", name)
		case fi.Mode().Perm()&sharedBits != 0 && !l.allowShared:
			return fmt.Errorf("sqlite: %s has mode %04o: %w: run chmod 600 %s, or add %s to the database url to accept it",
				name, fi.Mode().Perm(), ErrSharedFile, name, ModeCheckOff)
		}
	}
	return nil
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// stdin is where users create reads the password; tests replace it.
var stdin io.Reader = os.Stdin

const usersUsage = "users create -role ROLE -email EMAIL -name NAME [-patient-id ID]"

// users creates a user with no one signed in: the first admin of a new
// database, or any user when no admin can sign in. The password is read
// from standard input: typed at a prompt that does not echo it when
// standard input is a terminal, otherwise the first line (so that
// `hrctl users create ... < password-file` and pipes work), never from
// the command line, where other users of the machine could read it.
func users(ctx context.Context, s storeurl.Store, args []string, in io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%s: %w", usersUsage, errUsage)
	}
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var u practice.NewUser
	fs.Func("role", "admin, dietician, practitioner or patient (required)", func(v string) error {
		u.Role = practice.Role(v)
		if !u.Role.Valid() {
			return errors.New("not one of admin, dietician, practitioner or patient")
		}
		return nil
	})
	fs.StringVar(&u.Email, "email", "", "the email the user signs in with (required)")
	fs.StringVar(&u.Name, "name", "", "the user's name (required)")
	fs.Int64Var(&u.PatientID, "patient-id", 0, "for a patient user, the id of their own patient record")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || u.Role == "" || u.Email == "" || u.Name == "" {
		return fmt.Errorf("%s: %w", usersUsage, errUsage)
	}
	st, ok := s.(practice.Store)
	if !ok {
		return fmt.Errorf("the store %T holds no users", s)
	}
	// Refuse a bad email before asking for a password.
	if err := practice.ValidateEmail(u.Email); err != nil {
		return err
	}
	var err error
	if u.Password, err = readPassword(in, stderr); err != nil {
		return err
	}
	created, err := practice.Bootstrap(ctx, st, u, time.Now())
	if errors.Is(err, practice.ErrConflict) {
		return errors.New("a user with this email exists already")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %d created as %s\n", created.ID, created.Role)
	return nil
}

// readPassword reads the password from in: at a prompt without echo,
// twice, when in is a terminal; otherwise its first line.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(label string) (string, error) {
			fmt.Fprint(prompt, label)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(prompt)
			return string(b), err
		}
		pw, err := ask("Password (at least 12 characters): ")
		if err != nil {
			return "", err
		}
		if err := practice.ValidatePassword(pw); err != nil {
			return "", err
		}
		again, err := ask("Password again: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the two passwords differ")
		}
		return pw, nil
	}
	// A line longer than the limit is cut here, and refused as too long.
	line, err := bufio.NewReader(io.LimitReader(in, practice.MaxPasswordBytes+3)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on standard input: type it at the prompt, or give it as the first line")
	}
	return line, nil
}

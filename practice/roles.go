package practice

import (
	"fmt"
	"slices"
	"strings"
)

// relations are the standings the roles table shows, as the facts the
// policy sees for an actor (user 2; a patient user's record is patient
// 10): their own records (their patient, document, account, share), an
// upload of their own, a record shared with them, an inquiry addressed
// to no one, and anyone else's. An inquiry addressed to them is "own".
var relations = []struct {
	name string
	r    Resource
}{
	{"own", Resource{PatientID: 10, OwnerID: 2, UserID: 2, SharedBy: 2, Inquiry: true, AddressedTo: 2}},
	{"own upload", Resource{PatientID: 10, OwnerID: 2, Uploaded: true, UploadedBy: 2}},
	{"shared with them", Resource{PatientID: 12, OwnerID: 9, SharedWithActor: true, SharedWith: 2}},
	{"unaddressed", Resource{Inquiry: true}},
	{"anyone's", Resource{PatientID: 11, OwnerID: 9, UserID: 7, SharedBy: 9, SharedWith: 8, Uploaded: true, UploadedBy: 9,
		Inquiry: true, AddressedTo: 9}},
}

// RolesTable renders, as a Markdown table, what each role may do under
// the policy: for every action, the records each role may do it to.
// "own" is the actor's own patients (a patient's own record), account
// and shares; "any" is every record. docs/api.md holds it, checked against the policy by a test.
func RolesTable() string {
	var b strings.Builder
	b.WriteString("| action |")
	for _, role := range Roles {
		fmt.Fprintf(&b, " %s |", role)
	}
	b.WriteString("\n| --- |")
	for range Roles {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, act := range Actions {
		fmt.Fprintf(&b, "| `%s` |", act)
		for _, role := range Roles {
			a := Actor{UserID: 2, Role: role}
			if role == RolePatient {
				a.PatientID = 10
			}
			var allowed []string
			for _, rel := range relations {
				r := rel.r
				if act == ActionCreateUser {
					r.NewRole = RolePatient
				}
				if Can(a, act, r) == nil {
					allowed = append(allowed, rel.name)
				}
			}
			fmt.Fprintf(&b, " %s |", cell(allowed))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// cell says in a few words which records a role may act on.
func cell(allowed []string) string {
	switch {
	case len(allowed) == 0:
		return "—"
	case slices.Contains(allowed, "anyone's"):
		return "any"
	case len(allowed) >= 2 && allowed[0] == "own" && allowed[1] == "own upload":
		allowed = allowed[1:]
		allowed[0] = "own"
	}
	return strings.Join(allowed, ", ")
}

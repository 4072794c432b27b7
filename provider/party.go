package provider

// Practitioner is the subset of the FHIR R4 Practitioner this library
// reads: the name to show as a document's author.
type Practitioner struct {
	Base
	Name []HumanName `json:"name,omitempty"`
}

// PractitionerRole is the subset of the FHIR R4 PractitionerRole this
// library reads: who acts, for which organization.
type PractitionerRole struct {
	Base
	Practitioner *Reference `json:"practitioner,omitempty"`
	Organization *Reference `json:"organization,omitempty"`
}

// Organization is the subset of the FHIR R4 Organization this library
// reads: its name.
type Organization struct {
	Base
	Name string `json:"name,omitempty"`
}

// DisplayName returns the name to show for a Practitioner: its first
// usual or official name, else its first name.
func (p *Practitioner) DisplayName() string {
	for _, use := range []string{"usual", "official"} {
		for _, n := range p.Name {
			if n.Use == use && n.String() != "" {
				return n.String()
			}
		}
	}
	for _, n := range p.Name {
		if s := n.String(); s != "" {
			return s
		}
	}
	return ""
}

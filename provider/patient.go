package provider

// Patient is the subset of the FHIR R4 Patient resource this library
// reads and writes back.
type Patient struct {
	Base
	Identifier []Identifier   `json:"identifier,omitempty"`
	Active     *bool          `json:"active,omitempty"`
	Name       []HumanName    `json:"name,omitempty"`
	Telecom    []ContactPoint `json:"telecom,omitempty"`
	Gender     string         `json:"gender,omitempty"`
	BirthDate  string         `json:"birthDate,omitempty"`
	Address    []Address      `json:"address,omitempty"`
	Deceased   *bool          `json:"deceasedBoolean,omitempty"`
	Text       *Narrative     `json:"text,omitempty"`
	// ManagingOrganization is the custodian of the patient record.
	ManagingOrganization *Reference `json:"managingOrganization,omitempty"`
}

// Narrative is a resource's human-readable XHTML summary.
type Narrative struct {
	Status string `json:"status,omitempty"`
	Div    string `json:"div,omitempty"`
}

// PreferredName returns the name to show: the first "official" one, else
// "usual", else the first name that is not "old", else the first.
func (p *Patient) PreferredName() (HumanName, bool) {
	for _, use := range []string{"official", "usual"} {
		for _, n := range p.Name {
			if n.Use == use {
				return n, true
			}
		}
	}
	for _, n := range p.Name {
		if n.Use != "old" {
			return n, true
		}
	}
	if len(p.Name) > 0 {
		return p.Name[0], true
	}
	return HumanName{}, false
}

// Email returns the patient's first email address.
func (p *Patient) Email() string {
	for _, t := range p.Telecom {
		if t.System == "email" && t.Value != "" {
			return t.Value
		}
	}
	return ""
}

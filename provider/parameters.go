package provider

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Parameters is the FHIR Parameters resource: named values, each possibly
// made of parts. The R4 Subscriptions Backport carries a subscription's
// status in one.
type Parameters struct {
	Base
	Parameter []Parameter `json:"parameter,omitempty"`
}

// Get returns the first parameter named name.
func (p *Parameters) Get(name string) (Parameter, bool) {
	return findParameter(p.Parameter, name)
}

// Parameter is one named value of a Parameters resource. Its value[x] is
// kept raw under its JSON key ("valueString", "valueReference", ...) and
// read with the typed accessors.
type Parameter struct {
	Name string
	// Values maps each value[x] key present to its raw JSON.
	Values   map[string]json.RawMessage
	Part     []Parameter
	Resource json.RawMessage
}

// PartNamed returns the first part named name.
func (p Parameter) PartNamed(name string) (Parameter, bool) {
	return findParameter(p.Part, name)
}

// PartsNamed returns every part named name.
func (p Parameter) PartsNamed(name string) []Parameter {
	var out []Parameter
	for _, q := range p.Part {
		if q.Name == name {
			out = append(out, q)
		}
	}
	return out
}

func findParameter(ps []Parameter, name string) (Parameter, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Parameter{}, false
}

// String returns the value of a primitive value[x] (string, code, uri,
// canonical, instant, integer, ...) as text: JSON strings unquoted, JSON
// numbers and booleans as written. It is "" when the value is absent or
// not primitive.
func (p Parameter) String() string {
	for k, raw := range p.Values {
		if k == "valueReference" || k == "valueCodeableConcept" || k == "valueCoding" {
			continue
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' || string(raw) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
	return ""
}

// Reference returns the valueReference.
func (p Parameter) Reference() (Reference, bool) {
	raw, ok := p.Values["valueReference"]
	if !ok {
		return Reference{}, false
	}
	var r Reference
	if json.Unmarshal(raw, &r) != nil {
		return Reference{}, false
	}
	return r, true
}

// CodeableConcept returns the valueCodeableConcept, or a valueCoding as a
// concept of one coding.
func (p Parameter) CodeableConcept() (CodeableConcept, bool) {
	if raw, ok := p.Values["valueCodeableConcept"]; ok {
		var c CodeableConcept
		if json.Unmarshal(raw, &c) == nil {
			return c, true
		}
	}
	if raw, ok := p.Values["valueCoding"]; ok {
		var c Coding
		if json.Unmarshal(raw, &c) == nil {
			return CodeableConcept{Coding: []Coding{c}}, true
		}
	}
	return CodeableConcept{}, false
}

// UnmarshalJSON decodes a parameter leniently, keeping every value[x].
func (p *Parameter) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		// A parameter that is not an object is left empty, as a typed
		// element of the wrong JSON type would be.
		*p = Parameter{}
		return nil
	}
	var out Parameter
	for k, v := range fields {
		switch {
		case k == "name":
			_ = json.Unmarshal(v, &out.Name)
		case k == "part":
			var parts []json.RawMessage
			if json.Unmarshal(v, &parts) == nil {
				for _, raw := range parts {
					var q Parameter
					_ = q.UnmarshalJSON(raw)
					out.Part = append(out.Part, q)
				}
			}
		case k == "resource":
			out.Resource = v
		case strings.HasPrefix(k, "value"):
			if out.Values == nil {
				out.Values = make(map[string]json.RawMessage)
			}
			out.Values[k] = v
		}
	}
	*p = out
	return nil
}

// MarshalJSON encodes the parameter back to FHIR JSON.
func (p Parameter) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.Values)+3)
	m["name"] = p.Name
	for k, v := range p.Values {
		m[k] = v
	}
	if len(p.Part) > 0 {
		m["part"] = p.Part
	}
	if len(p.Resource) > 0 {
		m["resource"] = p.Resource
	}
	return json.Marshal(m)
}

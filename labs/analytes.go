package labs

import (
	"slices"
	"strings"
)

// Analyte is a quantity a dietician follows, measured by any of several
// LOINC codes (the test's siblings: by method, specimen or formula).
type Analyte struct {
	// ID names the analyte in the API: "hba1c", "glucose".
	ID string
	// Name is how a person reads it.
	Name string
	// Codes is the analyte's value set of LOINC codes.
	Codes []string
	// Unit is the UCUM code every value is shown in.
	Unit string
	// Conversions turn a value in another unit into Unit.
	Conversions []Conversion
}

// Conversion turns a value in From into the analyte's unit: Scale*v +
// Offset. Every conversion here but HbA1c's is a pure factor.
type Conversion struct {
	// From is a UCUM code.
	From   string
	Scale  float64
	Offset float64
}

// The factors, each from the molar mass of the analyte (mg/dL ↔ mmol/L)
// or the definition of the unit; docs/labs.md cites a published source
// for each.
const (
	glucoseMgPerMmol      = 18.016 // mg/dL per mmol/L (molar mass 180.16 g/mol)
	cholesterolMgPerMmol  = 38.67  // mg/dL per mmol/L (386.65 g/mol), also for HDL and LDL
	triglycerideMgPerMmol = 88.57  // mg/dL per mmol/L (as triolein, 885.7 g/mol)
	creatinineUmolPerMg   = 88.42  // µmol/L per mg/dL (113.12 g/mol)
	vitaminDNmolPerNg     = 2.496  // nmol/L per ng/mL (400.64 g/mol)
	b12PmolPerPg          = 0.7378 // pmol/L per pg/mL (1355.4 g/mol)
	ifccPerNGSP           = 10.929 // mmol/mol per % of the IFCC–NGSP master equation
	ngspIntercept         = 2.15   // % at 0 mmol/mol of the master equation
	poundKg               = 0.45359237
	inchCm                = 2.54
)

// Analytes is the table of analytes a dietician follows, in the order a
// summary shows them.
var Analytes = []Analyte{
	{ID: "hba1c", Name: "HbA1c", Codes: []string{"4548-4", "17856-6", "41995-2", "59261-8"}, Unit: "%",
		Conversions: []Conversion{{From: "mmol/mol", Scale: 1 / ifccPerNGSP, Offset: ngspIntercept}}},
	{ID: "glucose", Name: "Glucose", Codes: []string{"2345-7", "2339-0", "15074-8"}, Unit: "mg/dL",
		Conversions: []Conversion{{From: "mmol/L", Scale: glucoseMgPerMmol}}},
	{ID: "cholesterol", Name: "Total cholesterol", Codes: []string{"2093-3", "35200-5"}, Unit: "mg/dL",
		Conversions: []Conversion{{From: "mmol/L", Scale: cholesterolMgPerMmol}}},
	{ID: "hdl", Name: "HDL cholesterol", Codes: []string{"2085-9"}, Unit: "mg/dL",
		Conversions: []Conversion{{From: "mmol/L", Scale: cholesterolMgPerMmol}}},
	{ID: "ldl", Name: "LDL cholesterol", Codes: []string{"13457-7", "18262-6"}, Unit: "mg/dL",
		Conversions: []Conversion{{From: "mmol/L", Scale: cholesterolMgPerMmol}}},
	{ID: "triglycerides", Name: "Triglycerides", Codes: []string{"2571-8", "35217-9"}, Unit: "mg/dL",
		Conversions: []Conversion{{From: "mmol/L", Scale: triglycerideMgPerMmol}}},
	{ID: "albumin", Name: "Albumin", Codes: []string{"1751-7"}, Unit: "g/dL",
		Conversions: []Conversion{{From: "g/L", Scale: 0.1}}},
	{ID: "ferritin", Name: "Ferritin", Codes: []string{"2276-4"}, Unit: "ng/mL",
		Conversions: []Conversion{{From: "ug/L", Scale: 1}}},
	{ID: "vitamin-d", Name: "Vitamin D (25-OH)", Codes: []string{"1989-3", "62292-8"}, Unit: "ng/mL",
		Conversions: []Conversion{{From: "nmol/L", Scale: 1 / vitaminDNmolPerNg}, {From: "ug/L", Scale: 1}}},
	{ID: "vitamin-b12", Name: "Vitamin B12", Codes: []string{"2132-9"}, Unit: "pg/mL",
		Conversions: []Conversion{{From: "pmol/L", Scale: 1 / b12PmolPerPg}, {From: "ng/L", Scale: 1}}},
	{ID: "creatinine", Name: "Creatinine", Codes: []string{"2160-0"}, Unit: "mg/dL",
		Conversions: []Conversion{{From: "umol/L", Scale: 1 / creatinineUmolPerMg}}},
	{ID: "egfr", Name: "eGFR", Codes: []string{"33914-3", "48642-3", "62238-1", "98979-8", "98980-6"}, Unit: "mL/min/{1.73_m2}"},
	{ID: "weight", Name: "Body weight", Codes: []string{"29463-7"}, Unit: "kg",
		Conversions: []Conversion{{From: "[lb_av]", Scale: poundKg}, {From: "g", Scale: 0.001}}},
	{ID: "height", Name: "Height", Codes: []string{"8302-2"}, Unit: "cm",
		Conversions: []Conversion{{From: "[in_i]", Scale: inchCm}, {From: "m", Scale: 100}}},
	{ID: "bmi", Name: "BMI", Codes: []string{"39156-5"}, Unit: "kg/m2"},
}

// ByID returns the analyte of an id.
func ByID(id string) (Analyte, bool) {
	i := slices.IndexFunc(Analytes, func(a Analyte) bool { return a.ID == id })
	if i < 0 {
		return Analyte{}, false
	}
	return Analytes[i], true
}

// ByCode returns the analyte whose value set holds a LOINC code.
func ByCode(code string) (Analyte, bool) {
	for _, a := range Analytes {
		if slices.Contains(a.Codes, code) {
			return a, true
		}
	}
	return Analyte{}, false
}

// IDs lists the analytes' ids, in table order.
func IDs() []string {
	ids := make([]string, len(Analytes))
	for i, a := range Analytes {
		ids[i] = a.ID
	}
	return ids
}

// Convert returns v, measured in unit, in the analyte's unit. ok is false
// when the unit is neither the analyte's nor one it converts from: the
// value is then shown as given, in its own unit. Units are UCUM codes;
// the spellings providers put in Quantity.unit instead ("mg/dl", "µmol/L",
// "lbs") are understood too.
func (a Analyte) Convert(v float64, unit string) (float64, bool) {
	u := NormalizeUnit(unit)
	if u == NormalizeUnit(a.Unit) {
		return v, true
	}
	for _, c := range a.Conversions {
		if u == NormalizeUnit(c.From) {
			return c.Scale*v + c.Offset, true
		}
	}
	return v, false
}

// unitAliases maps lower-cased spellings to UCUM codes.
var unitAliases = map[string]string{
	"mg/dl": "mg/dL", "g/dl": "g/dL", "mmol/l": "mmol/L", "µmol/l": "umol/L", "μmol/l": "umol/L", "umol/l": "umol/L",
	"nmol/l": "nmol/L", "pmol/l": "pmol/L", "ng/ml": "ng/mL", "pg/ml": "pg/mL", "µg/l": "ug/L", "μg/l": "ug/L",
	"ug/l": "ug/L", "ng/l": "ng/L", "g/l": "g/L", "%": "%", "mmol/mol": "mmol/mol", "kg": "kg", "g": "g",
	"lb": "[lb_av]", "lbs": "[lb_av]", "[lb_av]": "[lb_av]", "cm": "cm", "m": "m", "in": "[in_i]", "[in_i]": "[in_i]",
	"kg/m2": "kg/m2", "kg/m²": "kg/m2", "ml/min/{1.73_m2}": "mL/min/{1.73_m2}", "ml/min/1.73m2": "mL/min/{1.73_m2}",
	"ml/min/1.73 m2": "mL/min/{1.73_m2}",
}

// NormalizeUnit returns the UCUM code of a unit as providers write it;
// an unknown unit comes back trimmed, as given.
func NormalizeUnit(unit string) string {
	u := strings.TrimSpace(unit)
	if c, ok := unitAliases[strings.ToLower(u)]; ok {
		return c
	}
	return u
}

package mockphp

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Lab values drift over a patient's years at the practice, some
// patients' laboratories report in SI units, weight, height and BMI are
// recorded at visits, and now and then a result is amended or entered in
// error. All of it is drawn from streams of the persona's own (seeded by
// its id), so the documents the main stream makes stay as they were.

// personaHash is a number of the persona and a salt, for its own streams.
func (p *persona) hash(salt string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p.id))
	h.Write([]byte{0})
	h.Write([]byte(salt))
	return h.Sum64()
}

// drift is how far, in widths of the reference range, the analyte has
// moved by at since the persona's first visit: a steady rise or fall of
// up to a quarter of the range a year, its own for each persona and
// analyte.
func (p *persona) drift(loinc string, at time.Time) float64 {
	perYear := (float64(p.hash("drift:"+loinc)%1000)/1000 - 0.5) * 0.5
	years := at.Sub(p.since).Hours() / (24 * 365.25)
	return perYear * math.Max(0, years)
}

// siUnits reports whether the persona's laboratory reports glucose,
// lipids and HbA1c in SI units (mmol/L, mmol/mol): one in three.
func (p *persona) siUnits() bool { return p.hash("units")%3 == 0 }

// imperial reports whether the persona's weight and height are recorded
// in pounds and inches: one in four.
func (p *persona) imperial() bool { return p.hash("imperial")%4 == 0 }

// Factors of the SI units the mock reports in (see labs for the table
// the library converts with).
const (
	mgPerMmolGlucose     = 18.016
	mgPerMmolCholesterol = 38.67
	mgPerMmolTriglycerid = 88.57
	loincHbA1cIFCC       = "59261-8" // Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol
)

// reported returns the analyte as the persona's laboratory reports it, and
// the conversion of a value from the analyte's own unit.
func (p *persona) reported(a analyte) (analyte, func(float64) float64) {
	same := func(v float64) float64 { return v }
	if !p.siUnits() {
		return a, same
	}
	div := func(f float64) func(float64) float64 { return func(v float64) float64 { return v / f } }
	var conv func(float64) float64
	switch a.loinc {
	case "2345-7":
		conv, a.decimals = div(mgPerMmolGlucose), 1
	case "2093-3", "2085-9", "18262-6":
		conv, a.decimals = div(mgPerMmolCholesterol), 2
	case "2571-8":
		conv, a.decimals = div(mgPerMmolTriglycerid), 2
	case "4548-4":
		conv, a.decimals = func(v float64) float64 { return (v - 2.15) * 10.929 }, 0
		a.loinc, a.display = loincHbA1cIFCC, "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol"
		a.unit, a.ucum = "mmol/mol", "mmol/mol"
		a.low, a.high = conv(a.low), conv(a.high)
		return a, conv
	default:
		return a, same
	}
	a.unit, a.ucum = "mmol/L", "mmol/L"
	a.low, a.high = conv(a.low), conv(a.high)
	return a, conv
}

// interpretation is the flag of v against a range: critical (HH, LL)
// beyond half a range width outside it.
func interpretation(v, low, high float64) string {
	width := high - low
	switch {
	case v > high+width/2:
		return "HH"
	case v > high:
		return "H"
	case v < low-width/2 && low > 0:
		return "LL"
	case v < low:
		return "L"
	}
	return "N"
}

var interpretationDisplay = map[string]string{"H": "High", "L": "Low", "N": "Normal", "HH": "Critical high", "LL": "Critical low"}

// vitalSigns makes the vital signs recorded at a visit: body weight,
// height and BMI, the weight the one the visit's note gives (which walks
// from visit to visit).
func (g *docGen) vitalSigns(at time.Time) []object {
	r := rand.New(rand.NewPCG(g.p.hash("vitals"), uint64(g.docNo))) //nolint:gosec // synthetic data
	kg := g.p.weightKg
	bmi := kg / math.Pow(g.p.heightCm/100, 2)
	weight, weightUnit, weightUCUM := math.Round(kg*10)/10, "kg", "kg"
	height, heightUnit, heightUCUM := g.p.heightCm, "cm", "cm"
	if g.p.imperial() {
		weight, weightUnit, weightUCUM = math.Round(kg/0.45359237*10)/10, "lb", "[lb_av]"
		height, heightUnit, heightUCUM = math.Round(g.p.heightCm/2.54*10)/10, "in", "[in_i]"
	}
	vital := func(loinc, display string, v float64, unit, ucum string) object {
		return object{
			"resourceType":      "Observation",
			"id":                uuidFrom(randReader{r}),
			"status":            "final",
			"category":          list(concept("Vital Signs", coding("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "Vital Signs"))),
			"code":              concept(display, coding(loincSystem, loinc, display)),
			"subject":           reference(g.p.ref(), g.p.name()),
			"effectiveDateTime": at.Format(time.RFC3339),
			"performer":         list(object{"display": g.p.clinician}),
			"valueQuantity":     object{"value": v, "unit": unit, "system": ucumSystem, "code": ucum},
		}
	}
	return []object{
		vital("29463-7", "Body weight", weight, weightUnit, weightUCUM),
		vital("8302-2", "Body height", height, heightUnit, heightUCUM),
		vital("39156-5", "Body mass index (BMI) [Ratio]", math.Round(bmi*10)/10, "kg/m2", "kg/m2"),
	}
}

// revision returns the later version a lab result gets, if it gets one:
// one in twelve is amended (its value a few percent off), one in fifty
// entered in error. The report keeps the first value, as a laboratory's
// does until it reissues it.
func (g *docGen) revision(res object) (object, bool) {
	if str(res, "resourceType") != "Observation" {
		return nil, false
	}
	roll := g.p.hash("revision:"+str(res, "id")) % 600
	switch {
	case roll < 12:
		out := cloneObject(res)
		out["status"] = "entered-in-error"
		return out, true
	case roll < 62:
		out := cloneObject(res)
		q := cloneObject(obj(out, "valueQuantity"))
		if v, ok := q["value"].(float64); ok {
			f := 1 + 0.03*float64(1-2*int(roll%2))
			q["value"] = math.Round(v*f*100) / 100
		}
		out["valueQuantity"] = q
		out["status"] = "amended"
		return out, true
	}
	return nil, false
}

// cloneObject copies the top level of o.
func cloneObject(o object) object {
	out := make(object, len(o))
	for k, v := range o {
		out[k] = v
	}
	return out
}

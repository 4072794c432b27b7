package mockphp

import (
	"crypto/sha1" //nolint:gosec // FHIR Attachment.hash is defined as SHA-1
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Identifier systems and extensions the synthetic data uses.
const (
	// MRNSystem is the system of the patients' medical record numbers.
	MRNSystem = "https://mockphp.example.org/fhir/sid/mrn"
	// DocumentIDSystem is the system of the documents' business identifiers.
	DocumentIDSystem = "https://mockphp.example.org/fhir/sid/document"
	// AccessionSystem is the system of lab report accession numbers.
	AccessionSystem = "https://mockphp.example.org/fhir/sid/accession"
	// ExtMedicalHistory carries a patient's medical history as valueString.
	ExtMedicalHistory = "https://healthcare-records.github.io/fhir/StructureDefinition/medical-history"
	// ExtDietaryPreferences carries a patient's dietary preferences,
	// restrictions and allergies as valueString.
	ExtDietaryPreferences = "https://healthcare-records.github.io/fhir/StructureDefinition/dietary-preferences"
)

// DocumentKind is the kind of a generated document.
type DocumentKind string

// The document kinds, matching the seed's document types.
const (
	KindLabResult          DocumentKind = "lab_result"
	KindProgressNote       DocumentKind = "progress_note"
	KindPhysicalAssessment DocumentKind = "physical_assessment"
)

// LOINC returns the DocumentReference.type code of the kind.
func (k DocumentKind) LOINC() string {
	switch k {
	case KindLabResult:
		return LOINCLabReport
	case KindProgressNote:
		return LOINCProgressNote
	case KindPhysicalAssessment:
		return LOINCHistoryPhysical
	}
	return ""
}

func kindOfLOINC(code string) (DocumentKind, bool) {
	for _, k := range []DocumentKind{KindLabResult, KindProgressNote, KindPhysicalAssessment} {
		if k.LOINC() == code {
			return k, true
		}
	}
	return "", false
}

// randReader adapts a seeded generator to io.Reader for ids.
type randReader struct{ r *rand.Rand }

func (rr randReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], rr.r.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// persona is a generated patient and what their documents draw on.
type persona struct {
	id, mrn, given, family, sex string
	birth                       time.Time
	email, phone                string
	addr                        place
	street                      string
	conds                       []condition
	diets                       []dietNote
	meds                        []string
	heightCm, weightKg          float64
	since                       time.Time // first seen at the practice
	clinician                   string
	visits                      int
}

func (p *persona) name() string { return p.given + " " + p.family }

func (p *persona) ref() string { return "Patient/" + p.id }

func (p *persona) bmi() float64 { h := p.heightCm / 100; return p.weightKg / (h * h) }

func (p *persona) age(at time.Time) int {
	y := at.Year() - p.birth.Year()
	if at.YearDay() < p.birth.YearDay() {
		y--
	}
	return y
}

func (p *persona) history() string {
	if len(p.conds) == 0 {
		return "No significant past medical history."
	}
	var parts []string
	for _, c := range p.conds {
		parts = append(parts, c.name+" ("+c.note+")")
	}
	return strings.Join(parts, "; ") + "."
}

func (p *persona) dietText() string {
	var parts []string
	for _, d := range p.diets {
		parts = append(parts, d.text)
	}
	return strings.Join(parts, "; ") + "."
}

func newPersona(r *rand.Rand, n int, epoch time.Time) *persona {
	p := &persona{id: uuidFrom(randReader{r}), mrn: fmt.Sprintf("MRN-%07d", 100000+n*37+r.IntN(37))}
	if r.IntN(2) == 0 {
		p.sex, p.given = "female", pick(r, givenFemale)
		p.heightCm = 152 + r.Float64()*24
	} else {
		p.sex, p.given = "male", pick(r, givenMale)
		p.heightCm = 164 + r.Float64()*26
	}
	p.family = pick(r, familyNames)
	p.birth = epoch.AddDate(-(19 + r.IntN(66)), -r.IntN(12), -r.IntN(28))
	p.birth = time.Date(p.birth.Year(), p.birth.Month(), p.birth.Day(), 0, 0, 0, 0, time.UTC)
	local := strings.ToLower(strings.NewReplacer("'", "", " ", "").Replace(p.given + "." + p.family))
	p.email = fmt.Sprintf("%s%d@%s", local, n, pick(r, emailDomains))
	p.addr = pick(r, places)
	p.phone = fmt.Sprintf("+1-%s-555-01%02d", p.addr.area, r.IntN(100))
	p.street = fmt.Sprintf("%d %s", 1+r.IntN(480), pick(r, streetNames))
	for _, i := range r.Perm(len(conditions))[:r.IntN(4)] {
		p.conds = append(p.conds, conditions[i])
	}
	slices.SortFunc(p.conds, func(a, b condition) int { return strings.Compare(a.name, b.name) })
	for _, i := range r.Perm(len(dietNotes))[:1+r.IntN(3)] {
		p.diets = append(p.diets, dietNotes[i])
	}
	for _, c := range p.conds {
		p.meds = append(p.meds, c.meds...)
	}
	bmi := 20 + r.Float64()*14
	for _, c := range p.conds {
		if strings.HasPrefix(c.name, "Obesity") {
			bmi = 31 + r.Float64()*7
		}
	}
	p.weightKg = math.Round(bmi*(p.heightCm/100)*(p.heightCm/100)*10) / 10
	p.heightCm = math.Round(p.heightCm)
	p.since = epoch.Add(-time.Duration(400+r.IntN(5*365)) * 24 * time.Hour).Add(time.Duration(r.IntN(86400)) * time.Second)
	p.clinician = pick(r, clinicians)
	return p
}

// patientResource renders the persona as a FHIR Patient.
func (p *persona) patientResource() object {
	return object{
		"resourceType": "Patient",
		"id":           p.id,
		"extension": list(
			object{"url": ExtMedicalHistory, "valueString": p.history()},
			object{"url": ExtDietaryPreferences, "valueString": p.dietText()},
		),
		"identifier": list(object{
			"use":    "usual",
			"type":   concept("Medical Record Number", coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical Record Number")),
			"system": MRNSystem,
			"value":  p.mrn,
		}),
		"active":    true,
		"name":      list(object{"use": "official", "family": p.family, "given": list(p.given), "text": p.name()}),
		"telecom":   list(object{"system": "phone", "value": p.phone, "use": "mobile"}, object{"system": "email", "value": p.email, "use": "home"}),
		"gender":    p.sex,
		"birthDate": p.birth.Format("2006-01-02"),
		"address": list(object{
			"use": "home", "line": list(p.street), "city": p.addr.city,
			"state": p.addr.state, "postalCode": p.addr.postal, "country": "US",
		}),
		"generalPractitioner":  list(object{"display": p.clinician}),
		"managingOrganization": object{"display": practiceName},
	}
}

// generated is one document's resources in the order they are stored.
type generated struct {
	resources []object
	at        time.Time // meta.lastUpdated of all of them
}

// docGen builds documents for one persona from one random stream.
type docGen struct {
	r     *rand.Rand
	p     *persona
	docNo int
}

func (g *docGen) id() string { return uuidFrom(randReader{g.r}) }

// pickKind chooses what the next document is; the first is always the
// initial assessment.
func (g *docGen) pickKind() DocumentKind {
	if g.p.visits == 0 {
		return KindPhysicalAssessment
	}
	switch x := g.r.IntN(100); {
	case x < 45:
		return KindLabResult
	case x < 85:
		return KindProgressNote
	}
	return KindPhysicalAssessment
}

// document builds a document of kind dated at.
func (g *docGen) document(kind DocumentKind, at time.Time) generated {
	g.docNo++
	g.p.visits++
	at = at.UTC().Truncate(time.Second)
	ready := at.Add(time.Duration(30+g.r.IntN(36*60)) * time.Minute)
	switch kind {
	case KindLabResult:
		return g.lab(at, ready)
	case KindPhysicalAssessment:
		return g.note(kind, at, ready, g.historyAndPhysical(at))
	default:
		return g.note(kind, at, ready, g.progressNote(at))
	}
}

func (g *docGen) lab(collected, reported time.Time) generated {
	keys := []string{}
	for _, c := range g.p.conds {
		keys = append(keys, c.labs...)
	}
	if len(keys) == 0 || g.r.IntN(4) == 0 {
		keys = append(keys, panelOrder...)
	}
	pn := panels[pick(g.r, keys)]
	shift := map[string]float64{}
	for _, c := range g.p.conds {
		for k, v := range c.effects {
			shift[k] += v
		}
	}
	patient := reference(g.p.ref(), g.p.name())
	var out []object
	var rows []string
	var results []any
	abnormal := 0
	for _, a := range pn.analytes {
		width := a.high - a.low
		v := (a.low+a.high)/2 + g.r.NormFloat64()*0.22*width + shift[a.loinc]*width + g.p.drift(a.loinc, collected)*width
		v = math.Max(v, a.low*0.3+0.01)
		interp := interpretation(v, a.low, a.high)
		a, conv := g.p.reported(a)
		scale := math.Pow(10, float64(a.decimals))
		v = math.Round(conv(v)*scale) / scale
		a.low, a.high = math.Round(a.low*scale)/scale, math.Round(a.high*scale)/scale
		flag := ""
		if interp != "N" {
			flag = interp
			abnormal++
		}
		qty := func(x float64) object {
			return object{"value": x, "unit": a.unit, "system": ucumSystem, "code": a.ucum}
		}
		interpDisplay := interpretationDisplay[interp]
		id := g.id()
		out = append(out, object{
			"resourceType":      "Observation",
			"id":                id,
			"status":            "final",
			"category":          list(concept("Laboratory", coding("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory"))),
			"code":              concept(a.short, coding(loincSystem, a.loinc, a.display)),
			"subject":           patient,
			"effectiveDateTime": collected.Format(time.RFC3339),
			"issued":            formatInstant(reported),
			"performer":         list(object{"display": labName}),
			"valueQuantity":     qty(v),
			"interpretation":    list(concept(interpDisplay, coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", interp, interpDisplay))),
			"referenceRange": list(object{
				"low": qty(a.low), "high": qty(a.high),
				"text": fmt.Sprintf("%s-%s %s", trimFloat(a.low, a.decimals), trimFloat(a.high, a.decimals), a.unit),
			}),
		})
		results = append(results, reference("Observation/"+id, a.short))
		rows = append(rows, fmt.Sprintf("%-26s %8s  %-8s  %-15s %s", a.short, trimFloat(v, a.decimals), a.unit,
			trimFloat(a.low, a.decimals)+" - "+trimFloat(a.high, a.decimals), flag))
	}
	conclusion := labConclusion(pn, abnormal, g.r)
	accession := fmt.Sprintf("ACC-%d-%06d", collected.Year(), g.r.IntN(1000000))
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n%s\n\n", strings.ToUpper(labName), pn.title)
	fmt.Fprintf(&text, "Patient: %s    DOB: %s    MRN: %s\n", g.p.name(), g.p.birth.Format("2006-01-02"), g.p.mrn)
	fmt.Fprintf(&text, "Accession: %s\nCollected: %s    Reported: %s\n", accession,
		collected.Format("2006-01-02 15:04"), reported.Format("2006-01-02 15:04"))
	fmt.Fprintf(&text, "Requested by: %s, %s\n\n", g.p.clinician, practiceName)
	fmt.Fprintf(&text, "%-26s %8s  %-8s  %-15s %s\n", "Test", "Result", "Units", "Reference", "Flag")
	for _, row := range rows {
		text.WriteString(strings.TrimRight(row, " ") + "\n")
	}
	fmt.Fprintf(&text, "\nComment: %s\n", conclusion)
	body := []byte(text.String())

	reportID, docID := g.id(), g.id()
	title := pn.title + " " + collected.Format("2006-01-02")
	out = append(out, object{
		"resourceType":      "DiagnosticReport",
		"id":                reportID,
		"identifier":        list(object{"system": AccessionSystem, "value": accession}),
		"status":            "final",
		"category":          list(concept("Laboratory", coding("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory"))),
		"code":              concept(pn.title, coding(loincSystem, pn.loinc, pn.display)),
		"subject":           patient,
		"effectiveDateTime": collected.Format(time.RFC3339),
		"issued":            formatInstant(reported),
		"performer":         list(object{"display": labName}),
		"result":            results,
		"conclusion":        conclusion,
		"presentedForm":     list(inlineAttachment("text/plain; charset=utf-8", body, title, reported)),
	})
	docs := g.docReference(KindLabResult, docID, title, collected, reported, body)
	dr := docs[len(docs)-1]
	dr["context"].(object)["related"] = list(reference("DiagnosticReport/"+reportID, pn.title))
	out = append(out, docs...)
	return generated{resources: out, at: reported}
}

func labConclusion(pn panel, abnormal int, r *rand.Rand) string {
	if abnormal == 0 {
		return pick(r, []string{
			"All results within reference ranges.",
			"No abnormality detected. Fasting sample.",
			"Results within normal limits; no action required from the laboratory.",
		})
	}
	return fmt.Sprintf("%d result(s) outside the reference range on the %s; clinical correlation advised.",
		abnormal, strings.ToLower(pn.title))
}

func trimFloat(v float64, decimals int) string {
	return fmt.Sprintf("%.*f", decimals, v)
}

func inlineAttachment(contentType string, data []byte, title string, created time.Time) object {
	sum := sha1.Sum(data) //nolint:gosec // FHIR Attachment.hash is SHA-1
	return object{
		"contentType": contentType,
		"language":    "en-US",
		"data":        base64.StdEncoding.EncodeToString(data),
		"size":        len(data),
		"hash":        base64.StdEncoding.EncodeToString(sum[:]),
		"title":       title,
		"creation":    created.Format(time.RFC3339),
	}
}

// docReference builds the DocumentReference for content, inline or behind
// a Binary it also returns (the Binary first).
func (g *docGen) docReference(kind DocumentKind, id, title string, at, ready time.Time, text []byte) []object {
	var out []object
	var att object
	switch x := g.r.IntN(10); {
	case x < 5:
		att = inlineAttachment("text/plain; charset=utf-8", text, title, ready)
	default:
		ct, data := "application/pdf", renderPDF(title, string(text))
		if x >= 8 {
			ct, data = "text/plain; charset=utf-8", text
		}
		binID := g.id()
		out = append(out, object{
			"resourceType":    "Binary",
			"id":              binID,
			"contentType":     ct,
			"securityContext": reference("DocumentReference/"+id, ""),
			"data":            base64.StdEncoding.EncodeToString(data),
		})
		att = inlineAttachment(ct, data, title, ready)
		delete(att, "data")
		att["url"] = "Binary/" + binID
	}
	display := map[DocumentKind]string{
		KindLabResult: "Laboratory report", KindProgressNote: "Progress note", KindPhysicalAssessment: "History and physical note",
	}[kind]
	out = append(out, object{
		"resourceType": "DocumentReference",
		"id":           id,
		"identifier":   list(object{"system": DocumentIDSystem, "value": fmt.Sprintf("DOC-%s-%03d", g.p.mrn[4:], g.docNo)}),
		"status":       "current",
		"docStatus":    "final",
		"type":         concept(display, coding(loincSystem, kind.LOINC(), display)),
		"category": list(concept("Clinical Note", coding(
			"http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note"))),
		"subject":     reference(g.p.ref(), g.p.name()),
		"date":        formatInstant(ready),
		"author":      list(object{"display": g.authorOf(kind)}),
		"custodian":   object{"display": practiceName},
		"description": title,
		"content":     list(object{"attachment": att}),
		"context": object{
			"period":       object{"start": at.Format(time.RFC3339), "end": at.Add(30 * time.Minute).Format(time.RFC3339)},
			"facilityType": concept("Family practice"),
		},
	})
	return out
}

func (g *docGen) authorOf(kind DocumentKind) string {
	if kind == KindLabResult {
		return labName
	}
	return g.p.clinician
}

func (g *docGen) note(kind DocumentKind, at, ready time.Time, text string) generated {
	title := map[DocumentKind]string{KindProgressNote: "Progress note", KindPhysicalAssessment: "History and physical"}[kind]
	title += " " + at.Format("2006-01-02")
	return generated{resources: g.docReference(kind, g.id(), title, at, ready, []byte(text)), at: ready}
}

// generate fills st with cfg's synthetic patients and documents. Each
// patient draws from its own stream seeded by (Seed, patient number), so a
// patient does not change when the number of patients does.
func generate(st *store, cfg Config) (map[string]*persona, error) {
	personas := make(map[string]*persona, cfg.Patients)
	for n := range cfg.Patients {
		r := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(n)+1)) //nolint:gosec // synthetic data
		p := newPersona(r, n, cfg.Epoch)
		personas[p.id] = p
		if _, _, err := st.put(p.patientResource(), p.since, ""); err != nil {
			return nil, fmt.Errorf("patient %d: %w", n, err)
		}
		span := cfg.Epoch.Sub(p.since) - 48*time.Hour
		dates := make([]time.Time, cfg.DocsPerPatient)
		for i := range dates {
			dates[i] = p.since.Add(time.Duration(r.Int64N(int64(span))))
		}
		slices.SortFunc(dates, func(a, b time.Time) int { return a.Compare(b) })
		g := &docGen{r: r, p: p}
		for _, at := range dates {
			kind := g.pickKind()
			doc := g.document(kind, at)
			for _, res := range doc.resources {
				if _, _, err := st.put(res, doc.at, ""); err != nil {
					return nil, fmt.Errorf("patient %d document: %w", n, err)
				}
			}
			if kind != KindLabResult {
				for _, res := range g.vitalSigns(at) {
					if _, _, err := st.put(res, doc.at, ""); err != nil {
						return nil, fmt.Errorf("patient %d vital signs: %w", n, err)
					}
				}
			}
			for _, res := range doc.resources {
				if rev, ok := g.revision(res); ok {
					if _, _, err := st.put(rev, doc.at.Add(26*time.Hour), ""); err != nil {
						return nil, fmt.Errorf("patient %d revised result: %w", n, err)
					}
				}
			}
		}
	}
	return personas, nil
}

package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// The practice's benchmark data: as many documents as the API's load test
// lists from.
const (
	BenchPatients         = 200
	BenchPatientDocuments = 500
)

// BenchWords are the words documents are written in; a keyword is in
// about one document in len(BenchWords)/benchDocWords.
var BenchWords = strings.Fields(`cholesterol glucose fibre protein sodium potassium calcium iron vitamin folate
	weight height pressure lipid panel insulin meal plan breakfast lunch dinner snack water coffee sugar salt
	bread rice pasta fruit vegetable legume nut seed dairy egg fish poultry meat oil butter allergy intolerance
	gluten lactose review follow visit referral note result range normal high low stable improving worse target`)

const benchDocWords = 12

// PracticeSeed sizes the practice's benchmark data. Zero values take the
// defaults.
type PracticeSeed struct {
	// Patients, and Documents of each. Default BenchPatients and
	// BenchPatientDocuments.
	Patients, Documents int
	// Owners are the dieticians the patients belong to, in turn; none
	// leaves the patients without an owner.
	Owners []int64
	// TextBytes pads each document's text, beside its benchDocWords
	// words of BenchWords, with filler words (none of which a word of
	// BenchWords starts) to about this many bytes, so that the text
	// index holds what a real note gives it while a keyword stays as
	// rare. Default: no filler.
	TextBytes int
	// Large adds a PDF (not text, so not indexed) of LargeBytes bytes
	// to each of the first Large patients.
	Large, LargeBytes int
}

// SeededPractice is what SeedPractice made.
type SeededPractice struct {
	// Patients are the patients' ids, in the order made: patient i
	// belongs to Owners[i%len(Owners)].
	Patients []int64
	// Large are the ids of the large documents, of Patients[0], [1], ….
	Large []int64
}

// SeedPractice fills s with seed's patients and documents, one
// transaction a patient, through practice.Tx's own calls: documents of
// four types with dates over five years, titled and written in
// BenchWords. The data is the same for the same seed.
func SeedPractice(ctx context.Context, s practice.Store, seed PracticeSeed) (SeededPractice, error) {
	if seed.Patients <= 0 {
		seed.Patients = BenchPatients
	}
	if seed.Documents <= 0 {
		seed.Documents = BenchPatientDocuments
	}
	rng := rand.New(rand.NewPCG(1, 2))
	filler := fillerWords()
	types := []connector.DocumentType{connector.DocumentLabResult, connector.DocumentProgressNote,
		connector.DocumentPhysicalAssessment, connector.DocumentOther}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var out SeededPractice
	for p := range seed.Patients {
		err := s.Write(ctx, func(tx practice.Tx) error {
			ref := patientRef(fmt.Sprintf("bench-%d", p))
			patient := practice.Patient{Patient: connector.Patient{Ref: ref, Name: fmt.Sprintf("Patient %d", p)}}
			if len(seed.Owners) > 0 {
				patient.OwnerID, patient.Link = seed.Owners[p%len(seed.Owners)], practice.Linked
			}
			id, err := tx.CreatePatient(ctx, patient)
			if err != nil {
				return err
			}
			out.Patients = append(out.Patients, id)
			save := func(d connector.Document) (int64, error) {
				d.Patient, d.Author, d.Source, d.Version = ref, "Dr. Bench", "php", "1"
				sd := connector.StoredDocument{PatientID: id, Document: d}
				sd.Seal()
				return tx.SaveDocument(ctx, sd)
			}
			for d := range seed.Documents {
				words := make([]string, benchDocWords)
				for i := range words {
					words[i] = BenchWords[rng.IntN(len(BenchWords))]
				}
				text := []byte(strings.Join(words, " "))
				for len(text) < seed.TextBytes {
					text = append(append(text, ' '), filler[rng.IntN(len(filler))]...)
				}
				_, err := save(connector.Document{
					Ref:  connector.Ref{System: "php", Type: "DocumentReference", ID: fmt.Sprintf("bench-%d-%d", p, d)},
					Type: types[rng.IntN(len(types))], Title: words[0] + " " + words[1],
					Date:        base.Add(time.Duration(rng.IntN(5*365*24)) * time.Hour),
					ContentType: "text/plain", Content: text,
				})
				if err != nil {
					return err
				}
			}
			if p >= seed.Large {
				return nil
			}
			pdf := make([]byte, max(seed.LargeBytes, 16))
			for i := copy(pdf, "%PDF-1.7\n"); i < len(pdf); i++ {
				pdf[i] = byte(rng.Uint32())
			}
			large, err := save(connector.Document{
				Ref:  connector.Ref{System: "php", Type: "DocumentReference", ID: fmt.Sprintf("bench-%d-large", p)},
				Type: connector.DocumentOther, Title: "scanned referral", Date: base, ContentType: "application/pdf",
				Content: pdf,
			})
			out.Large = append(out.Large, large)
			return err
		})
		if err != nil {
			return SeededPractice{}, fmt.Errorf("seed patient %d: %w", p, err)
		}
	}
	return out, nil
}

// fillerWords are made-up words of three or four syllables, none of which
// a word of BenchWords starts, so that filler never matches a keyword.
func fillerWords() []string {
	syllables := strings.Fields("ba de ki lo mu ra se ti vo za ne po gu fi ha je")
	var words []string
	for i := range 4096 {
		w := syllables[i%16] + syllables[i/16%16] + syllables[i/256%16]
		if i%3 == 0 {
			w += syllables[(i/7)%16]
		}
		if !slices.ContainsFunc(BenchWords, func(k string) bool { return strings.HasPrefix(w, k) }) {
			words = append(words, w)
		}
	}
	return words
}

// BenchPracticeLists fills s with BenchPatients patients of
// BenchPatientDocuments documents each, then reports the median and 99th
// percentile latency of what the practice's document pages read: a
// patient's documents newest first, their counts by type, and keyword
// searches within a patient and across every patient.
func BenchPracticeLists(b *testing.B, s PracticeStore) {
	ctx := context.Background()
	seedStart := time.Now()
	seeded, err := SeedPractice(ctx, s, PracticeSeed{})
	require.NoError(b, err)
	patients := seeded.Patients
	b.Logf("seeded %d documents in %s", BenchPatients*BenchPatientDocuments, time.Since(seedStart).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name string
		run  func(tx practice.Tx, patient int64) error
	}{
		{"patient-documents", func(tx practice.Tx, patient int64) error {
			_, err := tx.Documents(ctx, practice.DocumentQuery{PatientID: patient})
			return err
		}},
		{"patient-counted", func(tx practice.Tx, patient int64) error {
			_, _, err := tx.DocumentsCounted(ctx, practice.DocumentQuery{PatientID: patient})
			return err
		}},
		{"patient-keyword", func(tx practice.Tx, patient int64) error {
			_, err := tx.Documents(ctx, practice.DocumentQuery{PatientID: patient, Text: "cholesterol"})
			return err
		}},
		{"patient-keyword-counted", func(tx practice.Tx, patient int64) error {
			_, _, err := tx.DocumentsCounted(ctx, practice.DocumentQuery{PatientID: patient, Text: "cholesterol"})
			return err
		}},
		{"all-keywords", func(tx practice.Tx, _ int64) error {
			_, err := tx.Documents(ctx, practice.DocumentQuery{Text: "chol gluc"})
			return err
		}},
		{"all-keyword", func(tx practice.Tx, _ int64) error {
			_, err := tx.Documents(ctx, practice.DocumentQuery{Text: "cholesterol"})
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				patient := patients[rng.IntN(len(patients))]
				start := time.Now()
				require.NoError(b, s.Read(ctx, func(tx practice.Tx) error { return c.run(tx, patient) }))
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

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

// benchWords are the words documents are written in; a keyword is in
// about one document in len(benchWords)/benchDocWords.
var benchWords = strings.Fields(`cholesterol glucose fibre protein sodium potassium calcium iron vitamin folate
	weight height pressure lipid panel insulin meal plan breakfast lunch dinner snack water coffee sugar salt
	bread rice pasta fruit vegetable legume nut seed dairy egg fish poultry meat oil butter allergy intolerance
	gluten lactose review follow visit referral note result range normal high low stable improving worse target`)

const benchDocWords = 12

// BenchPracticeLists fills s with BenchPatients patients of
// BenchPatientDocuments documents each, then reports the median and 99th
// percentile latency of what the practice's document pages read: a
// patient's documents newest first, their counts by type, and keyword
// searches within a patient and across every patient.
func BenchPracticeLists(b *testing.B, s PracticeStore) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	types := []connector.DocumentType{connector.DocumentLabResult, connector.DocumentProgressNote,
		connector.DocumentPhysicalAssessment, connector.DocumentOther}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var patients []int64
	seedStart := time.Now()
	for p := range BenchPatients {
		require.NoError(b, s.Write(ctx, func(tx practice.Tx) error {
			ref := patientRef(fmt.Sprintf("bench-%d", p))
			id, err := tx.CreatePatient(ctx, practice.Patient{Patient: connector.Patient{Ref: ref, Name: fmt.Sprintf("Patient %d", p)}})
			if err != nil {
				return err
			}
			patients = append(patients, id)
			for d := range BenchPatientDocuments {
				words := make([]string, benchDocWords)
				for i := range words {
					words[i] = benchWords[rng.IntN(len(benchWords))]
				}
				sd := connector.StoredDocument{PatientID: id, Document: connector.Document{
					Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: fmt.Sprintf("bench-%d-%d", p, d)},
					Patient: ref, Type: types[rng.IntN(len(types))], Title: words[0] + " " + words[1],
					Date: base.Add(time.Duration(rng.IntN(5*365*24)) * time.Hour), Author: "Dr. Bench",
					Source: "php", ContentType: "text/plain", Content: []byte(strings.Join(words, " ")), Version: "1",
				}}
				sd.Seal()
				if _, err := tx.SaveDocument(ctx, sd); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	b.Logf("seeded %d documents in %s", BenchPatients*BenchPatientDocuments, time.Since(seedStart).Round(time.Millisecond))

	for _, c := range []struct {
		name string
		run  func(tx practice.Tx, patient int64) error
	}{
		{"patient-documents", func(tx practice.Tx, patient int64) error {
			_, err := tx.Documents(ctx, practice.DocumentQuery{PatientID: patient})
			return err
		}},
		{"patient-counts", func(tx practice.Tx, patient int64) error {
			_, err := tx.DocumentCounts(ctx, practice.DocumentQuery{PatientID: patient})
			return err
		}},
		{"patient-keyword", func(tx practice.Tx, patient int64) error {
			_, err := tx.Documents(ctx, practice.DocumentQuery{PatientID: patient, Text: "cholesterol"})
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

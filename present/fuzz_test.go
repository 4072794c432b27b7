package present

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// addSeeds adds the testdata files matching pattern to f's corpus.
func addSeeds(f *testing.F, pattern string) {
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzRenderCDA: any bytes declared as C-CDA give a sanitized view or an
// error of the package's classes, never a panic.
func FuzzRenderCDA(f *testing.F) {
	addSeeds(f, "*.xml")
	f.Add([]byte(cdaWith(`<paragraph>x<linkHtml href="javascript:alert(1)">y</linkHtml></paragraph>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := Render(ctx, "application/hl7-v3+xml", data, Limits{MaxBytes: 1 << 20})
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error of no class: %v", err)
			}
			return
		}
		if v.Kind == KindHTML {
			assertSafe(t, v.HTML)
		}
		if _, err := Text(ctx, "application/hl7-v3+xml", data, Limits{MaxBytes: 1 << 20}); err != nil &&
			!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error of no class: %v", err)
		}
	})
}

// FuzzPDFText: any bytes declared as a PDF give text or an error of the
// package's classes (the library's panics recovered), within the deadline.
func FuzzPDFText(f *testing.F) {
	addSeeds(f, "*.pdf")
	f.Add(buildPDF([][]string{{"Ferritin 45 ug/L"}}, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := Text(ctx, "application/pdf", data, Limits{MaxBytes: 1 << 20, MaxTextBytes: 1 << 20, MaxPages: 100})
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNoText) &&
			!errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error of no class: %v", err)
		}
	})
}

// FuzzRenderHTML: whatever the HTML, what Render returns passes the
// sanitizer checks.
func FuzzRenderHTML(f *testing.F) {
	for _, a := range attacks {
		f.Add([]byte(a))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Render(context.Background(), "text/html", data, Limits{MaxBytes: 1 << 20})
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error of no class: %v", err)
			}
			return
		}
		if v.Kind == KindHTML {
			assertSafe(t, v.HTML)
		}
	})
}

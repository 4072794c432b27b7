package present_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/healthcare-records/healthcare-records/present"
)

func Example() {
	ctx := context.Background()
	page := []byte(`<h2 onclick="steal()">Lipid panel</h2><img src="https://tracker.example/p.gif">` +
		`<p>Cholesterol <b>6.1</b> mmol/L<script>alert(1)</script></p>`)

	v, err := present.Render(ctx, "text/html; charset=utf-8", page, present.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Kind, v.HTML)

	text, _ := present.Text(ctx, "text/html", page, present.Limits{})
	fmt.Printf("%q\n", text) // one line a block

	for _, l := range present.Diff("Sodium 140\nPotassium 4.1", "Sodium 138\nPotassium 4.1") {
		fmt.Println(l.Op, l.Text)
	}

	_, err = present.Render(ctx, "application/hl7-v3+xml", []byte("<ClinicalDocument"), present.Limits{})
	var pe *present.Error
	if errors.Is(err, present.ErrMalformed) && errors.As(err, &pe) {
		fmt.Println("refused:", pe.Reason)
	}
	// Output:
	// html <h2>Lipid panel</h2>[image not shown]<p>Cholesterol <b>6.1</b> mmol/L</p>
	// "Lipid panel\nCholesterol 6.1 mmol/L"
	// removed Sodium 140
	// added Sodium 138
	// equal Potassium 4.1
	// refused: not well-formed XML at line 1
}

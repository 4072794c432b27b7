package mockphp

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Clinical notes a dietician would read: what the patient eats, weighs and
// is treated for, in the plain layout a practice system exports.

var complaints = []string{
	"tiredness and low energy for several months",
	"wants help with weight management before planned knee surgery",
	"abdominal bloating after meals",
	"review of recent blood results",
	"new diagnosis, asking for dietary advice",
	"unintentional weight gain over the past year",
	"heartburn at night",
	"annual health check",
}

var breakfasts = []string{
	"white toast with butter and jam, sweet tea", "porridge with banana and honey", "no breakfast, coffee with sugar",
	"wholegrain cereal with low-fat milk", "eggs on toast", "fruit yoghurt and a muesli bar",
}

var lunches = []string{
	"sandwich from the canteen and crisps", "leftover rice and curry", "salad with chicken and feta",
	"instant noodles", "soup and a bread roll", "sushi from the food court",
}

var dinners = []string{
	"pasta with creamy sauce", "meat and three vegetables", "takeaway pizza twice a week",
	"stir-fry with rice", "fish and chips on Fridays", "lentil dhal with rice",
}

var snacks = []string{
	"biscuits in the afternoon", "fruit and nuts", "chocolate after dinner", "crackers and cheese", "none reported",
}

var occupations = []string{
	"office administrator", "bus driver", "secondary school teacher", "retired", "nurse on rotating shifts",
	"software developer", "builder", "university student", "chef", "shop owner",
}

var subjectiveLines = []string{
	"Has been following the meal plan most days; finds weekends harder.",
	"Reports better energy since changing breakfast.",
	"Struggling with evening snacking, mostly when tired.",
	"Has started walking 30 minutes on five days a week.",
	"Missed two weeks of the plan because of a family illness.",
	"Keeps a food diary; brought 7 days of records to clinic.",
	"Reduced soft drinks to one a day.",
	"Reports less bloating after reducing onion and garlic.",
}

var planLines = []string{
	"Continue Mediterranean-style pattern; aim for two serves of oily fish per week.",
	"Swap white bread and rice for wholegrain options; half the plate non-starchy vegetables.",
	"Protein at each meal to support satiety; plan an afternoon snack to avoid evening grazing.",
	"Limit added salt; check labels for sodium under 400 mg per serve.",
	"Iron-rich foods with vitamin C at the same meal; tea and coffee away from meals.",
	"Reintroduce FODMAP groups one at a time over the next six weeks.",
	"Calcium 1000 mg a day from dairy or fortified alternatives.",
	"Referral to dietician for structured meal planning.",
	"Repeat bloods in three months.",
}

func (g *docGen) vitals() (weight float64, sys, dia, hr int) {
	p := g.p
	p.weightKg = math.Round((p.weightKg+g.r.NormFloat64()*1.2-0.3)*10) / 10
	sys, dia = 112+g.r.IntN(35), 68+g.r.IntN(22)
	for _, c := range p.conds {
		if strings.Contains(c.name, "hypertension") {
			sys += 8
		}
	}
	return p.weightKg, sys, dia, 58 + g.r.IntN(35)
}

func (g *docGen) header(title string, at time.Time) *strings.Builder {
	var b strings.Builder
	p := g.p
	fmt.Fprintf(&b, "%s\n%s\n\n", strings.ToUpper(title), practiceName)
	fmt.Fprintf(&b, "Date: %s    Clinician: %s\n", at.Format("2006-01-02 15:04"), p.clinician)
	fmt.Fprintf(&b, "Patient: %s    DOB: %s (%d y)    MRN: %s\n\n", p.name(), p.birth.Format("2006-01-02"), p.age(at), p.mrn)
	return &b
}

func (g *docGen) progressNote(at time.Time) string {
	p := g.p
	before := p.weightKg
	w, sys, dia, hr := g.vitals()
	b := g.header("Progress note", at)
	fmt.Fprintf(b, "Subjective:\n  %s\n  %s\n\n", pick(g.r, subjectiveLines), pick(g.r, subjectiveLines))
	fmt.Fprintf(b, "Objective:\n  Weight %.1f kg (previous %.1f kg), BMI %.1f kg/m2.\n  BP %d/%d mmHg, HR %d bpm.\n\n",
		w, before, p.bmi(), sys, dia, hr)
	b.WriteString("Assessment:\n")
	if len(p.conds) == 0 {
		b.WriteString("  Healthy adult seeking general nutrition advice.\n")
	}
	for _, c := range p.conds {
		fmt.Fprintf(b, "  %s: %s.\n", c.name, pick(g.r, []string{"stable", "improving", "suboptimal control", "reviewed"}))
	}
	fmt.Fprintf(b, "  Dietary considerations: %s\n\n", p.dietText())
	fmt.Fprintf(b, "Plan:\n  - %s\n  - %s\n  - Review in %d weeks.\n", pick(g.r, planLines), pick(g.r, planLines), 2+2*g.r.IntN(6))
	return b.String()
}

func (g *docGen) historyAndPhysical(at time.Time) string {
	p := g.p
	w, sys, dia, hr := g.vitals()
	b := g.header("History and physical", at)
	fmt.Fprintf(b, "Presenting complaint:\n  %s.\n\n", pick(g.r, complaints))
	fmt.Fprintf(b, "Past medical history:\n")
	if len(p.conds) == 0 {
		b.WriteString("  Nil significant.\n")
	}
	for _, c := range p.conds {
		fmt.Fprintf(b, "  - %s: %s.\n", c.name, c.note)
	}
	b.WriteString("\nMedications:\n")
	if len(p.meds) == 0 {
		b.WriteString("  None regular.\n")
	}
	for _, m := range p.meds {
		fmt.Fprintf(b, "  - %s\n", m)
	}
	b.WriteString("\nAllergies and intolerances:\n")
	any := false
	for _, d := range p.diets {
		if d.allergy || strings.Contains(d.text, "intolerance") {
			fmt.Fprintf(b, "  - %s\n", d.text)
			any = true
		}
	}
	if !any {
		b.WriteString("  No known food or drug allergies.\n")
	}
	fmt.Fprintf(b, "\nDiet history (typical day):\n  Breakfast: %s.\n  Lunch: %s.\n  Dinner: %s.\n  Snacks: %s.\n  Preferences: %s\n",
		pick(g.r, breakfasts), pick(g.r, lunches), pick(g.r, dinners), pick(g.r, snacks), p.dietText())
	fmt.Fprintf(b, "\nSocial history:\n  Works as %s. Alcohol %d standard drinks a week. %s. Exercise: %s.\n",
		pick(g.r, occupations), g.r.IntN(12),
		pick(g.r, []string{"Never smoked", "Ex-smoker, quit 10 years ago", "Smokes 5 cigarettes a day"}),
		pick(g.r, []string{"minimal", "walks the dog daily", "gym twice a week", "cycles to work"}))
	fmt.Fprintf(b, "\nExamination:\n  Height %.0f cm, weight %.1f kg, BMI %.1f kg/m2, waist %d cm.\n  BP %d/%d mmHg, HR %d bpm regular.\n  Alert and well. Heart sounds dual, chest clear, abdomen soft and non-tender.\n",
		p.heightCm, w, p.bmi(), 70+g.r.IntN(45), sys, dia, hr)
	fmt.Fprintf(b, "\nAssessment and plan:\n  - %s\n  - %s\n  - Follow up with bloods: %s.\n",
		pick(g.r, planLines), pick(g.r, planLines), pick(g.r, []string{"HbA1c and lipids", "full blood count and iron studies", "renal function", "vitamin D"}))
	return b.String()
}

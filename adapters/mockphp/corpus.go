package mockphp

// Word lists for the synthetic data. Names are common given and family
// names; places are real cities with made-up streets; phone numbers use the
// 555-01xx range reserved for fiction; email domains are reserved example
// domains.

var givenFemale = []string{
	"Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sofia", "Emily", "Charlotte", "Hannah",
	"Chloe", "Zara", "Priya", "Mei", "Fatima", "Aroha", "Leilani", "Maria", "Rosa", "Ingrid",
	"Niamh", "Aisha", "Yuki", "Lucia", "Eleanor", "Margaret", "Ruth", "Joyce", "Anita", "Tamsin",
}

var givenMale = []string{
	"Oliver", "Jack", "Noah", "Leo", "William", "James", "Lucas", "Henry", "Thomas", "Samuel",
	"Arjun", "Wei", "Mohammed", "Tane", "Mateo", "Diego", "Kofi", "Liam", "Finn", "Hiroshi",
	"Rangi", "Omar", "David", "Peter", "George", "Harold", "Raymond", "Stefan", "Andrew", "Patrick",
}

var familyNames = []string{
	"Smith", "Williams", "Brown", "Taylor", "Wilson", "Nguyen", "Patel", "Singh", "Chen", "Kim",
	"Martin", "Anderson", "Thompson", "White", "Walker", "Harris", "Clarke", "Robinson", "Wright", "King",
	"Ngata", "Tipene", "Garcia", "Rossi", "Novak", "Okafor", "Mensah", "Haddad", "Sato", "Kowalski",
	"O'Brien", "MacDonald", "Fitzgerald", "Lindqvist", "Moreau", "Fernandes", "Hughes", "Evans", "Green", "Baker",
}

var emailDomains = []string{"example.com", "example.org", "example.net"}

type place struct{ city, state, postal, area string }

var places = []place{
	{"Springfield", "IL", "62704", "217"}, {"Portland", "OR", "97205", "503"},
	{"Madison", "WI", "53703", "608"}, {"Austin", "TX", "78704", "512"},
	{"Boulder", "CO", "80302", "303"}, {"Burlington", "VT", "05401", "802"},
	{"Savannah", "GA", "31401", "912"}, {"Asheville", "NC", "28801", "828"},
	{"Tucson", "AZ", "85719", "520"}, {"Ann Arbor", "MI", "48104", "734"},
	{"Duluth", "MN", "55802", "218"}, {"Santa Fe", "NM", "87501", "505"},
}

var streetNames = []string{
	"Maple Avenue", "Oak Street", "Cedar Lane", "Elm Drive", "Birch Road", "Willow Way",
	"Harbour View Terrace", "Station Road", "Hillcrest Avenue", "Riverside Drive", "Orchard Close", "Park Lane",
}

// condition is an entry of a patient's medical history, with what it
// means for the diet and the labs and medicines that follow it.
type condition struct {
	name    string
	note    string
	labs    []string // panel keys likely to be ordered
	meds    []string
	effects map[string]float64 // analyte LOINC -> shift in reference-range widths
}

var conditions = []condition{
	{name: "Type 2 diabetes mellitus", note: "diagnosed some years ago, on oral therapy",
		labs: []string{"hba1c", "bmp", "lipid"}, meds: []string{"metformin 1000 mg twice daily"},
		effects: map[string]float64{"4548-4": 0.9, "2345-7": 0.8}},
	{name: "Prediabetes", note: "impaired fasting glucose on screening",
		labs: []string{"hba1c", "bmp"}, effects: map[string]float64{"4548-4": 0.35, "2345-7": 0.3}},
	{name: "Essential hypertension", note: "well controlled on medication",
		labs: []string{"bmp"}, meds: []string{"lisinopril 10 mg daily"},
		effects: map[string]float64{"2951-2": 0.1}},
	{name: "Hypercholesterolaemia", note: "family history of early heart disease",
		labs: []string{"lipid"}, meds: []string{"atorvastatin 20 mg at night"},
		effects: map[string]float64{"2093-3": 0.7, "18262-6": 0.8, "2571-8": 0.5}},
	{name: "Coeliac disease", note: "biopsy-confirmed; strict gluten-free diet",
		labs: []string{"cbc", "iron", "vitd"}, effects: map[string]float64{"2276-4": -0.5, "718-7": -0.4}},
	{name: "Iron-deficiency anaemia", note: "heavy menstrual losses and low dietary iron",
		labs: []string{"cbc", "iron"}, meds: []string{"ferrous sulfate 325 mg on alternate days"},
		effects: map[string]float64{"718-7": -0.8, "2276-4": -0.9, "2498-4": -0.7, "787-2": -0.6}},
	{name: "Irritable bowel syndrome", note: "bloating and altered bowel habit, worse with stress",
		labs: []string{"cbc"}},
	{name: "Gastro-oesophageal reflux disease", note: "symptoms after large evening meals",
		labs: []string{"cbc"}, meds: []string{"omeprazole 20 mg daily"}},
	{name: "Polycystic ovary syndrome", note: "irregular cycles, insulin resistance",
		labs: []string{"hba1c", "lipid"}, meds: []string{"metformin 500 mg twice daily"},
		effects: map[string]float64{"2571-8": 0.4, "4548-4": 0.2}},
	{name: "Hypothyroidism", note: "on replacement therapy",
		labs: []string{"tsh", "lipid"}, meds: []string{"levothyroxine 75 mcg daily"},
		effects: map[string]float64{"3016-3": 0.5}},
	{name: "Chronic kidney disease stage 3a", note: "monitored by nephrology",
		labs: []string{"bmp"}, effects: map[string]float64{"2160-0": 0.7, "3094-0": 0.6, "2823-3": 0.3}},
	{name: "Obesity (BMI over 30)", note: "referred for weight management",
		labs: []string{"hba1c", "lipid"}, effects: map[string]float64{"2571-8": 0.4}},
	{name: "Vitamin D deficiency", note: "limited sun exposure",
		labs: []string{"vitd"}, meds: []string{"cholecalciferol 1000 IU daily"},
		effects: map[string]float64{"1989-3": -0.9}},
	{name: "Pernicious anaemia", note: "on vitamin B12 injections",
		labs: []string{"b12", "cbc"}, meds: []string{"hydroxocobalamin 1 mg IM every 3 months"},
		effects: map[string]float64{"2132-9": -0.6, "787-2": 0.5}},
}

// dietNote is a dietary preference, restriction or allergy.
type dietNote struct {
	text    string
	allergy bool
}

var dietNotes = []dietNote{
	{text: "Vegetarian (lacto-ovo)"}, {text: "Vegan"}, {text: "Pescatarian"},
	{text: "Lactose intolerance: tolerates hard cheese and yoghurt"},
	{text: "Peanut allergy (anaphylaxis): carries adrenaline auto-injector", allergy: true},
	{text: "Tree nut allergy", allergy: true}, {text: "Shellfish allergy", allergy: true},
	{text: "Egg allergy (hives)", allergy: true},
	{text: "Gluten-free diet"}, {text: "Low-sodium diet advised"},
	{text: "Halal"}, {text: "Kosher"}, {text: "Avoids caffeine"},
	{text: "Low-FODMAP trial in progress"}, {text: "Prefers Mediterranean-style meals"},
	{text: "Intermittent fasting (16:8) self-directed"}, {text: "Dislikes fish; eats poultry and legumes"},
	{text: "Drinks 3 to 4 sugary soft drinks a day"}, {text: "Skips breakfast most days"},
}

var clinicians = []string{
	"Dr Sarah Mitchell", "Dr Rajesh Kumar", "Dr Emma Thornton", "Dr Michael O'Connor",
	"Dr Hana Takahashi", "Dr Samuel Adeyemi", "Nurse Practitioner Laura Bennett",
}

const practiceName = "Riverside Family Practice"
const labName = "Riverside Pathology Laboratory"

package mockphp

// LOINC codes the server uses for documents, as US Core uses them.
const (
	LOINCLabReport       = "11502-2" // Laboratory report
	LOINCProgressNote    = "11506-3" // Progress note
	LOINCHistoryPhysical = "34117-2" // History and physical note
)

const (
	loincSystem = "http://loinc.org"
	ucumSystem  = "http://unitsofmeasure.org"
)

// analyte is one lab test with its normal range.
type analyte struct {
	loinc, display, short string
	unit, ucum            string
	low, high             float64 // reference range; low 0 means "below high"
	decimals              int
}

// panel is what a lab report orders.
type panel struct {
	key, loinc, display, title string
	analytes                   []analyte
}

var panels = map[string]panel{
	"lipid": {key: "lipid", loinc: "57698-3", display: "Lipid panel with direct LDL - Serum or Plasma", title: "Lipid profile",
		analytes: []analyte{
			{"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "Total cholesterol", "mg/dL", "mg/dL", 125, 200, 0},
			{"2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "Triglycerides", "mg/dL", "mg/dL", 40, 150, 0},
			{"2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "HDL cholesterol", "mg/dL", "mg/dL", 40, 90, 0},
			{"18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "LDL cholesterol (direct)", "mg/dL", "mg/dL", 50, 100, 0},
		}},
	"hba1c": {key: "hba1c", loinc: "4548-4", display: "Hemoglobin A1c/Hemoglobin.total in Blood", title: "Glycated haemoglobin (HbA1c)",
		analytes: []analyte{
			{"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "%", "%", 4.0, 5.6, 1},
		}},
	"bmp": {key: "bmp", loinc: "51990-0", display: "Basic metabolic panel - Blood", title: "Basic metabolic panel",
		analytes: []analyte{
			{"2345-7", "Glucose [Mass/volume] in Serum or Plasma", "Glucose (fasting)", "mg/dL", "mg/dL", 70, 99, 0},
			{"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "Sodium", "mmol/L", "mmol/L", 136, 145, 0},
			{"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "Potassium", "mmol/L", "mmol/L", 3.5, 5.1, 1},
			{"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Creatinine", "mg/dL", "mg/dL", 0.6, 1.2, 2},
			{"3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "Urea nitrogen (BUN)", "mg/dL", "mg/dL", 7, 20, 0},
			{"17861-6", "Calcium [Mass/volume] in Serum or Plasma", "Calcium", "mg/dL", "mg/dL", 8.6, 10.3, 1},
		}},
	"cbc": {key: "cbc", loinc: "58410-2", display: "CBC panel - Blood by Automated count", title: "Full blood count",
		analytes: []analyte{
			{"6690-2", "Leukocytes [#/volume] in Blood by Automated count", "White cell count", "10^3/uL", "10*3/uL", 4.5, 11.0, 1},
			{"718-7", "Hemoglobin [Mass/volume] in Blood", "Haemoglobin", "g/dL", "g/dL", 12.0, 17.5, 1},
			{"4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "Haematocrit", "%", "%", 36, 50, 1},
			{"787-2", "MCV [Entitic volume] by Automated count", "MCV", "fL", "fL", 80, 100, 0},
			{"777-3", "Platelets [#/volume] in Blood by Automated count", "Platelets", "10^3/uL", "10*3/uL", 150, 400, 0},
		}},
	"iron": {key: "iron", loinc: "50190-8", display: "Iron and Iron binding capacity panel - Serum or Plasma", title: "Iron studies",
		analytes: []analyte{
			{"2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "Ferritin", "ng/mL", "ng/mL", 15, 150, 0},
			{"2498-4", "Iron [Mass/volume] in Serum or Plasma", "Iron", "ug/dL", "ug/dL", 60, 170, 0},
			{"2500-7", "Iron binding capacity [Mass/volume] in Serum or Plasma", "TIBC", "ug/dL", "ug/dL", 250, 450, 0},
		}},
	"vitd": {key: "vitd", loinc: "1989-3", display: "25-Hydroxyvitamin D3+25-Hydroxyvitamin D2 [Mass/volume] in Serum or Plasma", title: "Vitamin D (25-OH)",
		analytes: []analyte{
			{"1989-3", "25-Hydroxyvitamin D3+25-Hydroxyvitamin D2 [Mass/volume] in Serum or Plasma", "25-OH vitamin D", "ng/mL", "ng/mL", 30, 100, 0},
		}},
	"b12": {key: "b12", loinc: "2132-9", display: "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma", title: "Vitamin B12",
		analytes: []analyte{
			{"2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma", "Vitamin B12", "pg/mL", "pg/mL", 200, 900, 0},
		}},
	"tsh": {key: "tsh", loinc: "3016-3", display: "Thyrotropin [Units/volume] in Serum or Plasma", title: "Thyroid stimulating hormone",
		analytes: []analyte{
			{"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH", "mIU/L", "m[IU]/L", 0.4, 4.0, 2},
		}},
}

// panelOrder fixes iteration order over panels, for determinism.
var panelOrder = []string{"lipid", "hba1c", "bmp", "cbc", "iron", "vitd", "b12", "tsh"}

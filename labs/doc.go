// Package labs knows the analytes a dietician follows: which LOINC codes
// measure each (its value set), the one unit each is shown in, and how a
// value in another unit converts to it. It also summarizes a series of
// values as its latest value, the change since the previous one and the
// direction of the trend.
//
// Nothing here interprets a value clinically: flags are the provider's
// own (FHIR Observation.interpretation), shown as given, and a trend is
// arithmetic over the values, not a judgement of them. docs/labs.md
// lists the analytes, their codes, the conversion factors and their
// sources.
package labs

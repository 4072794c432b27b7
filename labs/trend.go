package labs

import (
	"math"
	"time"
)

// Point is one value of a series, in the analyte's unit.
type Point struct {
	At    time.Time
	Value float64
}

// Direction is where a series goes.
type Direction string

// The directions Trend returns.
const (
	// Up and Down: the fitted change over the window is more than
	// SteadyFraction of the latest value.
	Up   Direction = "up"
	Down Direction = "down"
	// Steady: it is within SteadyFraction.
	Steady Direction = "steady"
	// Unknown: fewer than two values.
	Unknown Direction = ""
)

// TrendWindow is how many of the latest values a trend is fitted over.
const TrendWindow = 3

// SteadyFraction is the relative change below which a series is steady.
const SteadyFraction = 0.02

// Trend returns the direction of the last TrendWindow points (in time
// order): the sign of the least-squares line through them, times its
// rise over their time span, against SteadyFraction of the latest value.
// Points at one instant weigh in by their order.
func Trend(points []Point) Direction {
	if len(points) > TrendWindow {
		points = points[len(points)-TrendWindow:]
	}
	if len(points) < 2 {
		return Unknown
	}
	t0 := points[0].At
	xs := make([]float64, len(points))
	for i, p := range points {
		xs[i] = p.At.Sub(t0).Hours()
	}
	if xs[len(xs)-1] == 0 {
		for i := range xs {
			xs[i] = float64(i)
		}
	}
	var mx, my float64
	for i, p := range points {
		mx += xs[i]
		my += p.Value
	}
	n := float64(len(points))
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i, p := range points {
		sxy += (xs[i] - mx) * (p.Value - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return Steady
	}
	rise := sxy / sxx * (xs[len(xs)-1] - xs[0])
	scale := math.Abs(points[len(points)-1].Value)
	switch {
	case math.Abs(rise) <= SteadyFraction*scale:
		return Steady
	case rise > 0:
		return Up
	}
	return Down
}

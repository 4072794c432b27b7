package present

// Limits bound the work spent on one document. A zero field takes its
// default, so Limits{} is a sound choice.
type Limits struct {
	// MaxBytes is the largest input accepted, in bytes. Default 32 MiB.
	MaxBytes int64
	// MaxTextBytes bounds the text or HTML produced, in bytes. Default 4 MiB.
	MaxTextBytes int
	// MaxDepth bounds the nesting of XML and HTML elements. Default 100.
	MaxDepth int
	// MaxElements bounds the number of XML elements. Default 200,000.
	MaxElements int
	// MaxPages bounds the pages of a PDF read for text. Default 2,000.
	MaxPages int
}

// Defaults of [Limits].
const (
	DefaultMaxBytes     = 32 << 20
	DefaultMaxTextBytes = 4 << 20
	DefaultMaxDepth     = 100
	DefaultMaxElements  = 200_000
	DefaultMaxPages     = 2_000
)

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultMaxTextBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	return l
}

package connector

import "context"

// ExtractText sets d.Text from its content with Config.ExtractText, when
// one is set and the content is held in memory. A failure leaves Text
// empty and is logged (the document's id and content type only): the
// document is kept all the same, searchable by its title. Call it outside
// any transaction: extraction can take seconds.
func (e *Engine) ExtractText(ctx context.Context, d *Document) {
	d.Text = ""
	if e.cfg.ExtractText == nil || d.Deleted || d.Body != nil || len(d.Content) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.ExtractTimeout)
	defer cancel()
	text, err := e.cfg.ExtractText(ctx, d.ContentType, d.Content)
	if err != nil {
		e.log.DebugContext(ctx, "document text not extracted", "document", d.Ref.String(), "content_type", d.ContentType,
			"class", Class(err))
	}
	d.Text = text
}

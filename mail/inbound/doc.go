// Package inbound is the practice's inquiry listener: an SMTP server
// (github.com/emersion/go-smtp) that accepts mail for the practice's
// inquiry addresses and turns each message into a prospective patient's
// inquiry, as the web contact form's POST /inquiries does.
//
//	srv, err := inbound.New(inbound.Config{
//		Recipients: []string{"inquiries@practice.example"},
//		Receiver:   svc, // *practice.Service
//	})
//	go srv.Serve(listener) // INQUIRY_SMTP_ADDR
//	defer srv.Shutdown(ctx)
//
// Each message is read within limits (its size, MIME parts and nesting),
// its text taken from its text/plain part or, for an HTML-only message,
// from its HTML with every tag stripped; its From header gives the
// inquiry's name and email, its Message-ID makes a message delivered
// twice one inquiry, and its attachments are kept as bytes for the
// dietician, never run or shown inline. The replies say what to do:
//
//	250      stored (or stored before: a duplicate)
//	550      not one of the listener's recipients: it relays nothing
//	552      over the size, or more attachments than an inquiry keeps
//	554      malformed MIME, or an inquiry the practice refuses: for good
//	450      the sender is over the practice's inquiry limit: retry later
//	451      the inquiry could not be stored (the database is down): retry
//
// so that a sender's mail server keeps a message the listener could not
// store and delivers it again, and nothing is lost. Logs hold ids, sizes
// and outcomes, never an address or a message's content.
package inbound

// Package mail sends the service's email and reads the mail it receives.
//
// Sender is the interface the notifications' outbox uses to send one
// Message; SMTP is its implementation, speaking to SMTP_URL over
// github.com/wneessen/go-mail:
//
//	sender, err := mail.NewSMTP(mail.SMTPConfig{
//		URL:      "smtp://user:pass@smtp.example.org:587", // STARTTLS required
//		From:     "notifications@practice.example",
//		FromName: "Green Leaf Nutrition",
//	})
//	err = sender.Send(ctx, mail.Message{To: ..., Subject: ..., Text: ..., HTML: ..., MessageID: "n-42@practice.example"})
//
// A message goes out as text with its HTML alternative, under the
// Message-ID its caller gives, so that a retried send is recognisable as
// the same message. An error wrapping ErrRejected is for good (a 5xx);
// any other is transient and worth retrying. Neither the recipient nor
// the body is ever logged or put in an error: only the message id.
//
// Parse reads a received message (MIME, within Limits) into its text and
// HTML alternatives, headers and attachments: the inquiries that arrive by
// email (package mail/inbound) and the test server (mail/mailtest) read
// mail with it.
package mail

package mail_test

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/mail/mailtest"
)

// An SMTP sender speaking to an in-process server on loopback: the
// message arrives with both alternatives and its stable Message-ID.
func ExampleSMTP() {
	srv, err := mailtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	sender, err := mail.NewSMTP(mail.SMTPConfig{
		URL:      srv.URL(), // smtp://127.0.0.1:port?starttls=none; production: smtp://user:pass@host:587
		From:     "notifications@practice.example",
		FromName: "Green Leaf Nutrition",
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = sender.Send(ctx, mail.Message{
		To:        "dee@practice.example",
		Subject:   "A new inquiry",
		Text:      "A prospective patient wrote to the practice: https://practice.example/console/patients/new?inquiry=1",
		HTML:      `<p>A prospective patient wrote to the practice: <a href="https://practice.example/console/patients/new?inquiry=1">open it</a></p>`,
		MessageID: "notification-1@practice.example",
	})
	if err != nil {
		panic(err)
	}
	got, err := srv.Wait(ctx, 1)
	if err != nil {
		panic(err)
	}
	m := got[0]
	fmt.Println(m.Parsed.From.String())
	fmt.Println(m.Subject, m.MessageID)
	fmt.Println(m.Text != "", m.HTML != "")
	// Output:
	// "Green Leaf Nutrition" <notifications@practice.example>
	// A new inquiry notification-1@practice.example
	// true true
}

// Package mail sends the service's email and receives inquiries by email.
//
// Sender is the interface the notifications' outbox uses to send one
// Message; the SMTP implementation speaks to SMTP_URL.
package mail

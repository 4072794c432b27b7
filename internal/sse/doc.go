// Package sse holds what the service's Server-Sent Events streams share:
// the API's (a sync's progress, a user's notifications) and the
// console's. Each writes its own events.
package sse

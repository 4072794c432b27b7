package carepatrontest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
)

// A fake Carepatron that loses the response of every write: the client's
// retry, carrying the same Idempotency-Key, is answered from the first
// write, so there is still one contact.
func Example() {
	fake := carepatrontest.NewServer(carepatrontest.Config{
		Faults: carepatrontest.Faults{LostResponseRate: 1},
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	c, _ := carepatron.New(srv.URL, carepatrontest.DefaultAPIKey, carepatron.WithRetries(2, 0, 0))
	_, err := c.CreateContact(context.Background(), "key-1", carepatron.ContactInput{
		FirstName: "Synthetic", ExternalReference: "php/Patient/1",
	})
	fmt.Println(err != nil)

	st := fake.Stats()
	fmt.Println("contacts:", len(fake.Contacts()), "creates under key-1:", st.Creates["key-1"])
	_ = fake.WriteListing(os.Stdout)
	// Output:
	// true
	// contacts: 1 creates under key-1: 1
	// CONTACT      DOCUMENT  TYPE  BYTES  EXTERNAL REFERENCE
	// ct_00000001                         php/Patient/1
}

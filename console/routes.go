package console

import "net/http"

// routes maps every page and action. One file per page, as handlers go:
// login.go, patients.go, patient_new.go, patient.go, sync.go,
// documents.go, viewer.go, versions.go, shares.go, logs.go, profile.go, users.go, search.go,
// notifications.go, preferences.go, inquiries.go.
func (c *Console) routes() http.Handler {
	m := http.NewServeMux()
	b := c.cfg.BasePath
	page := func(pattern string, h handler) { m.Handle(pattern, c.authed(h, true)) }

	m.Handle("GET "+b+"/assets/", c.assets)
	m.HandleFunc("GET "+b+"/login", c.loginForm)
	m.HandleFunc("POST "+b+"/login", c.login)
	m.HandleFunc("POST "+b+"/logout", c.logout)
	page("POST "+b+"/session", c.extend)
	page("GET "+b+"/{$}", c.home)

	page("GET "+b+"/patients", c.patients)
	page("GET "+b+"/patients/new", c.newPatientForm)
	page("POST "+b+"/patients/new", c.newPatient)
	page("GET "+b+"/patients/{id}", c.patient)
	page("POST "+b+"/patients/{id}", c.editPatient)
	page("POST "+b+"/patients/{id}/retry", c.retryWriteBack)
	page("POST "+b+"/patients/{id}/sync", c.startSync)
	page("POST "+b+"/patients/{id}/requests", c.requestDocuments)
	m.Handle("GET "+b+"/syncs/{run}/events", c.authed(c.syncEvents, false))

	page("GET "+b+"/patients/{id}/documents", c.documents)
	page("GET "+b+"/patients/{id}/upload", c.uploadForm)
	page("POST "+b+"/patients/{id}/upload", c.upload)
	page("GET "+b+"/documents/{id}", c.viewer)
	page("POST "+b+"/documents/{id}", c.editDocument)
	page("GET "+b+"/documents/{id}/content", c.download)
	page("GET "+b+"/documents/{id}/versions/compare", c.compareVersions)
	page("GET "+b+"/documents/{id}/versions/{n}/content", c.versionContent)
	page("GET "+b+"/documents/{id}/share", c.shareForm)
	page("POST "+b+"/documents/{id}/share", c.share)
	page("POST "+b+"/shares/{id}/revoke", c.revoke)
	page("GET "+b+"/shared", c.sharedWithMe)

	page("GET "+b+"/search", c.search)
	page("GET "+b+"/logs", c.logs)
	page("GET "+b+"/profile", c.profile)
	page("POST "+b+"/profile", c.editProfile)
	page("GET "+b+"/notifications", c.notifications)
	page("POST "+b+"/notifications/read-all", c.readAllNotifications)
	page("GET "+b+"/notifications/{id}", c.notification)
	m.Handle("GET "+b+"/notifications/events", c.authed(c.notificationEvents, false))
	page("GET "+b+"/settings/notifications", c.preferences)
	page("POST "+b+"/settings/notifications", c.savePreferences)
	page("GET "+b+"/inquiries", c.inquiries)
	page("GET "+b+"/inquiries/{id}", c.inquiry)
	page("POST "+b+"/inquiries/{id}/dismiss", c.dismissInquiry)
	page("GET "+b+"/inquiries/{id}/attachments/{att}", c.inquiryAttachment)

	page("GET "+b+"/users", c.users)
	page("POST "+b+"/users", c.createUser)
	page("POST "+b+"/users/{id}", c.editUser)

	m.HandleFunc(b+"/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusNotFound, "Not found", "There is no such page in the console.")
	})
	return m
}

package admin

import (
	"net/http"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// documentView is one of the institution's documents of an email class.
type documentView struct {
	Name    string `json:"name"`
	Default bool   `json:"default"`
}

// listDocuments: GET documents?class=password_reset, the documents a
// box-office reset may name (the default one is named "").
func (a *API) listDocuments(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	if !q.Has("class") {
		a.invalid(w, r, c, []flows.Problem{{Field: "class", ID: "admin.field_required"}})
		return
	}
	class := templates.EmailClass(q.Get("class"))
	if !class.Valid() {
		a.invalid(w, r, c, []flows.Problem{{Field: "class", ID: "admin.email_class_unknown"}})
		return
	}
	names, err := a.documents.Documents(r.Context(), c.inst, class)
	if err != nil {
		a.fail(w, r, c, err)
		return
	}
	if !a.recordRead(w, r, c, "", "documents_listed", storage.Details{"class": string(class)}) {
		return
	}
	out := struct {
		Class     string         `json:"class"`
		Documents []documentView `json:"documents"`
	}{Class: string(class), Documents: []documentView{}}
	for _, n := range names {
		out.Documents = append(out.Documents, documentView{Name: n, Default: n == ""})
	}
	writeJSON(w, r, http.StatusOK, out)
}

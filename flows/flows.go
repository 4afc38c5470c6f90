// Package flows holds what people do with Usher: the service team setting up
// institutions, operators managing accounts, and (in the files named after
// them) sign-in, recovery, activation, registration and two-factor. Each
// person-facing flow is a state machine with one enum of states; a transition
// checks the state it starts from.
//
// Flows never import the protocol package: they meet it through the browser
// session (who is signed in) and the URL of the authorization request to
// resume, both wired in cmd/usher.
package flows

import (
	"github.com/usher-idp/usher/storage"
)

// Stores is what the flows need of the storage: institutions, transactions
// and each institution's records.
type Stores interface {
	storage.InstitutionStore
	storage.Transactor
	In(institutionID string) storage.Scoped
}

// Actor names who caused a change in the audit trail.
type Actor string

// Actors that are not an account.
const (
	ActorCLI    Actor = "cli"    // the service team, on the command line
	ActorSelf   Actor = "self"   // the account holder
	ActorSystem Actor = "system" // Usher itself
)

// OperatorActor is the actor of a change made by an operator's account.
func OperatorActor(accountID string) Actor { return Actor("operator:" + accountID) }

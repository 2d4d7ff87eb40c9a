package provision

// WaitContacts waits until the background contact-me work of changes
// started so far is done (tests).
func WaitContacts(s *Inventory) { s.contacts.wg.Wait() }

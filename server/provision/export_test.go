package provision

// WaitContacts waits until the background contact-me work of changes
// started so far is done (tests).
func WaitContacts(s *Inventory) { s.contacts.wg.Wait() }

// OpenSessions is the number of open dialogue sessions (tests).
func (d *Dialogues) OpenSessions() int { d.mu.Lock(); defer d.mu.Unlock(); return len(d.open) }

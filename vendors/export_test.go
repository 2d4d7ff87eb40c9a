package vendors

// LookupByDrivers is Lookup without its index (the drivers asked in turn),
// for tests that compare the two.
func LookupByDrivers(r *Registry, vendor, model string) (Vendor, Model, error) {
	return r.lookup(vendor, model)
}

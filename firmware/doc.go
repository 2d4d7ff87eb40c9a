// Package firmware will hold the firmware store: content-addressed files
// and a catalogue per vendor and model. No issue has asked for it yet; the
// folder exists so the layout in README.md is the real one.
package firmware

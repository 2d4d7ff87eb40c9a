package vendors

import (
	"fmt"
	"strings"
)

// Warner is implemented by drivers that can say where a device's files
// depart from what the admin asked: a time zone, language or tone scheme
// the model has no exact value for and that the driver wrote as the
// nearest one. The core shows the notes on the device (API, preview, UI);
// a driver without the capability has nothing to say.
type Warner interface {
	// Warnings returns one sentence per departure for the device as Render
	// would see it (secrets are never needed); nil when every value is
	// written as asked. Pure, like Render.
	Warnings(d *Device) []string
}

// Warnings asks v for the device's notes when it implements Warner.
func Warnings(v Vendor, d *Device) []string {
	if w, ok := v.(Warner); ok && d != nil {
		return w.Warnings(d)
	}
	return nil
}

// FormatOffset writes a UTC offset in seconds as "+5:30", "-5:00", "+0:00".
func FormatOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%d:%02d", sign, sec/3600, (sec%3600)/60)
}

// ZoneWarning is the one wording of a zone a model cannot carry exactly:
// z is the zone asked for, written the value the file carries, offset the
// standard offset that value stands for and dst whether it observes
// daylight saving time. It returns "" when the two agree on both.
// Example: "Asia/Kolkata is +5:30; the N870 has no such zone:
// Asia/Karachi (+5:00) written, 30 minutes off".
func ZoneWarning(z Zone, model, written string, offset int, dst bool) string {
	if z.Name == "" {
		return ""
	}
	var what []string
	if d := offset - z.Offset; d != 0 {
		if d < 0 {
			d = -d
		}
		what = append(what, durationText(d)+" off")
	}
	if zd := z.DST != nil; zd != dst {
		if zd {
			what = append(what, "without daylight saving time")
		} else {
			what = append(what, "with daylight saving time the zone does not observe")
		}
	}
	if len(what) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is %s%s; the %s has no such zone: %s (%s) written, %s",
		z.Name, FormatOffset(z.Offset), dstText(z), model, written, FormatOffset(offset), strings.Join(what, ", "))
}

func dstText(z Zone) string {
	if z.DST != nil {
		return " with daylight saving time"
	}
	return ""
}

func durationText(sec int) string {
	h, m := sec/3600, (sec%3600)/60
	switch {
	case h == 0:
		return fmt.Sprintf("%d minutes", m)
	case m == 0 && h == 1:
		return "1 hour"
	case m == 0:
		return fmt.Sprintf("%d hours", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// FallbackWarning is the one wording of a language or tone scheme a model
// has no value for: kind is "language", "web language" or "tone scheme",
// asked the product's code (a key of Languages or ToneSchemes) and
// written the vendor value the file carries instead.
// Example: "language cs (Czech): the T54W has none; English written".
func FallbackWarning(kind, asked, model, written string) string {
	name := Languages[asked]
	if kind == "tone scheme" {
		name = ToneSchemes[asked]
	}
	if name == "" {
		name = asked
	}
	return fmt.Sprintf("%s %s (%s): the %s has none; %s written", kind, asked, name, model, written)
}

package notify

import (
	"fmt"
	"time"

	"github.com/cams-alert/cams-alert/function/notify/locale"
)

// Basics are the channel settings every notifier applies alike, whatever its
// platform.
type Basics struct {
	Name string
	// MaxMessages caps the messages one digest becomes (0 or less: the
	// platform's default).
	MaxMessages int
	// MinInterval spaces messages (0: the platform's default, negative: none).
	MinInterval time.Duration
	// Locale is the language of the messages (see locale.Lookup).
	Locale string
}

// Resolve returns b with the platform's defaults def where b leaves a
// setting unset, and the catalog of b's locale. def.Name is the platform
// ("slack"): the name of an unnamed channel, and the platform in errors.
func (b Basics) Resolve(def Basics) (Basics, *locale.Catalog, error) {
	if b.Name == "" {
		b.Name = def.Name
	}
	if b.MaxMessages <= 0 {
		b.MaxMessages = def.MaxMessages
	}
	if b.MinInterval == 0 {
		b.MinInterval = def.MinInterval
	}
	cat, err := locale.Lookup(b.Locale)
	if err != nil {
		return b, nil, fmt.Errorf("%s channel %s: %w", def.Name, b.Name, err)
	}
	return b, cat, nil
}

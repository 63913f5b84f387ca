package dataapi

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// tableSpec is a resource's server-side table: kubectl get prints these columns; priority 1
// columns show with -o wide.
type tableSpec[O any] struct {
	columns []metav1.TableColumnDefinition
	cells   func(*O) []any
}

// Column helpers, so each resource's table reads as a list of headings.
func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
}

func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

func wideColumn(name, typ, description string) metav1.TableColumnDefinition {
	c := column(name, typ, description)
	c.Priority = 1
	return c
}

func ageColumn() metav1.TableColumnDefinition {
	return column("Age", "string", "Time since the row was created in the store.")
}

// age renders a creation time as kubectl does.
func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// since renders an optional time as age does, and a time not reached yet as <none>.
func since(t *metav1.Time) string {
	if t == nil {
		return "<none>"
	}
	return age(*t)
}

// orNone renders an empty string as kubectl's <none>.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

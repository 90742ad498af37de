package model

// ComponentError is the kind of exception a component raised. The python SDK maps the
// kind to a TaskErrorCode (PROTOCOL.md, worker table, "component errors"); the rust SDK
// reports every kind as COMPONENT_FAILED. Scenarios give the shares of each kind per
// component (`components[].errors`).
type ComponentError uint8

const (
	// ErrorValue is a ValueError, or any exception the python SDK does not single out.
	ErrorValue ComponentError = iota
	// ErrorType is a TypeError (python: INVALID_INPUT, which fails the step at once).
	ErrorType
	// ErrorOS is an OSError, ConnectionError or TimeoutError (python: RESOURCE_UNAVAILABLE).
	ErrorOS
	// ErrorUnknownComponent: the assignment names a component the worker does not have;
	// it is claimed, then completed with an error.
	ErrorUnknownComponent
	// NumComponentErrors sizes arrays indexed by ComponentError.
	NumComponentErrors
)

var componentErrorNames = [NumComponentErrors]string{"value_error", "type_error", "os_error", "unknown_component"}

// String is the kind's scenario name (value_error, type_error, os_error, unknown_component).
func (k ComponentError) String() string {
	if k < NumComponentErrors {
		return componentErrorNames[k]
	}
	return "ComponentError(?)"
}

// ParseComponentError maps a scenario name to a kind; unknown_component is not one a
// scenario may give (the driver decides it from the assignment).
func ParseComponentError(name string) (ComponentError, bool) {
	for i, n := range componentErrorNames[:ErrorUnknownComponent] {
		if n == name {
			return ComponentError(i), true
		}
	}
	return 0, false
}

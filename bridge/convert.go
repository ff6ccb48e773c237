//go:build js && wasm

package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall/js"

	"roomkit/server/protocol"
)

var (
	jsJSON    = js.Global().Get("JSON")
	jsError   = js.Global().Get("Error")
	jsPromise = js.Global().Get("Promise")
	jsObject  = js.Global().Get("Object")
)

// fromJS converts a JS value into the Go value out points to, through JSON,
// so JS objects become the protocol structs the client core takes.
// undefined and null leave out as it is.
func fromJS(field string, v js.Value, out any) error {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	if v.Type() == js.TypeFunction || v.Type() == js.TypeSymbol {
		return protocol.Errorf(protocol.CodeInvalidParameter, "%s must be a plain value, not a %s", field, v.Type())
	}
	s := jsJSON.Call("stringify", v).String()
	if err := json.Unmarshal([]byte(s), out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			name := field
			if te.Field != "" {
				name = field + "." + te.Field
			}
			return protocol.Errorf(protocol.CodeInvalidParameter, "%s must be %s, not a %s", name, jsTypeName(te.Type.Kind().String()), te.Value)
		}
		return protocol.Errorf(protocol.CodeInvalidParameter, "%s is malformed: %v", field, err)
	}
	return nil
}

func jsTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "a number"
}

// stringArg reads a required string argument.
func stringArg(args []js.Value, i int, field string) (string, error) {
	if i >= len(args) || args[i].Type() != js.TypeString {
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "%s must be a string", field)
	}
	return args[i].String(), nil
}

// arg returns args[i], or undefined when it was not passed.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// toJS converts a Go value into a plain JS object through JSON.
// Strings and passJS values go across as they are; nil is undefined.
func toJS(v any) js.Value {
	switch v := v.(type) {
	case nil:
		return js.Undefined()
	case passJS:
		return v.v
	case string:
		return js.ValueOf(v)
	case json.RawMessage:
		return jsJSON.Call("parse", string(v))
	}
	return jsJSON.Call("parse", toJSON(v))
}

// passJS carries a JS value through an export unchanged.
type passJS struct{ v js.Value }

// toJSON encodes v; the values passed are plain structs and maps, which
// always encode.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// toJSError makes a JS Error with a numeric code and a message; errors
// without a roomkit code get code 1.
func toJSError(err error) js.Value {
	code, msg := protocol.CodeFailed, err.Error()
	var pe *protocol.Error
	if errors.As(err, &pe) {
		code, msg = pe.Code, pe.Message
	}
	e := jsError.New(msg)
	e.Set("code", int(code))
	return e
}

// promise runs fn on a goroutine and returns a Promise of its result. The
// executor func is released after its single call; a panic in fn becomes a
// rejection with code 1, never a crash of the module.
func promise(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(this js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		executor.Release()
		go func() {
			defer func() {
				if p := recover(); p != nil {
					reject.Invoke(toJSError(fmt.Errorf("internal error: %v", p)))
				}
			}()
			v, err := fn()
			if err != nil {
				reject.Invoke(toJSError(err))
				return
			}
			resolve.Invoke(toJS(v))
		}()
		return nil
	})
	return jsPromise.New(executor)
}

// syncCall runs fn now and returns its result. An error or a panic is
// returned as a JS Error object (with code), which the JS module throws:
// a Go func cannot throw into JS itself.
func syncCall(fn func() (any, error)) (result any) {
	defer func() {
		if p := recover(); p != nil {
			result = toJSError(fmt.Errorf("internal error: %v", p))
		}
	}()
	v, err := fn()
	if err != nil {
		return toJSError(err)
	}
	return toJS(v)
}

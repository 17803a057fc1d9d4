// The C API calls whose name changed between the CPython versions wsgid
// builds against (3.9 to 3.13), behind one name each. Header-only.
#pragma once

#include <Python.h>

namespace wsgid {

// getattr(obj, name) without raising AttributeError: 1 and a new reference in
// *result when found, 0 and nullptr when absent, -1 with an exception set on
// another error. 3.13 made it public as PyObject_GetOptionalAttr and dropped
// _PyObject_LookupAttr.
inline int LookupOptionalAttr(PyObject* obj, PyObject* name,
                              PyObject** result) {
#if PY_VERSION_HEX >= 0x030D0000
  return PyObject_GetOptionalAttr(obj, name, result);
#else
  return _PyObject_LookupAttr(obj, name, result);
#endif
}

}  // namespace wsgid

/* Keeps the library non-empty until the module has sources; delete when it does. */
typedef int ct_viewer_placeholder_;

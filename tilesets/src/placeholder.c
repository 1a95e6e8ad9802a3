/* Keeps the library non-empty until the module has sources; delete when it does. */
typedef int ct_tilesets_placeholder_;

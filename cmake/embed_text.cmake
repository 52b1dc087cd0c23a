# Embeds a text file in a C++ source as a function returning it:
#   cmake -DIN=page.html -DOUT=page.cpp -DNAME=scaf::detail::page -P embed_text.cmake
# (the raw string's delimiter must not occur in the file).
file(READ "${IN}" content)
set(delimiter "scaf_embedded")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the delimiter )${delimiter}\"")
endif()
string(REGEX MATCH "^(.*)::([^:]+)$" _ "${NAME}")
set(namespace "${CMAKE_MATCH_1}")
set(function "${CMAKE_MATCH_2}")
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by cmake/embed_text.cmake: do not edit.\n"
  "namespace ${namespace} {\n\n"
  "const char* ${function}() noexcept {\n"
  "  return R\"${delimiter}(${content})${delimiter}\";\n"
  "}\n\n"
  "} // namespace ${namespace}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")

# Compiles shaders/*.comp to SPIR-V, validates each module with spirv-val, and embeds
# them all into one generated C++ source, so nothing is read from disk at run time.
#
# A shader may declare variants in comment lines of the form
#   // @variant NAME DEFINE[=VALUE] ...
# each of which compiles the same source with those defines under NAME.
# A shader with no @variant line compiles once, under its file name.

find_program(TERN_GLSLC glslc)
find_program(TERN_GLSLANG glslangValidator)
find_program(TERN_SPIRV_VAL spirv-val REQUIRED)
if(NOT TERN_GLSLC AND NOT TERN_GLSLANG)
  message(FATAL_ERROR "Tern needs glslc (Debian: glslc) or glslangValidator (glslang-tools)")
endif()

set(TERN_SPIRV_ENV vulkan1.1)

function(tern_compile_shader out_var name src defines)
  set(spv ${CMAKE_CURRENT_BINARY_DIR}/spv/${name}.spv)
  set(dep ${CMAKE_CURRENT_BINARY_DIR}/spv/${name}.d)
  set(def_args "")
  foreach(d ${defines})
    list(APPEND def_args "-D${d}")
  endforeach()
  if(TERN_GLSLC)
    set(cmd ${TERN_GLSLC} --target-env=${TERN_SPIRV_ENV} -O -Werror -I${CMAKE_CURRENT_SOURCE_DIR}
        ${def_args} -MD -MF ${dep} -o ${spv} ${src})
  else()
    set(cmd ${TERN_GLSLANG} -V --target-env ${TERN_SPIRV_ENV} -I${CMAKE_CURRENT_SOURCE_DIR}
        ${def_args} --depfile ${dep} -o ${spv} ${src})
  endif()
  add_custom_command(
    OUTPUT ${spv}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/spv
    COMMAND ${cmd}
    COMMAND ${TERN_SPIRV_VAL} --target-env ${TERN_SPIRV_ENV} ${spv}
    DEPENDS ${src}
    DEPFILE ${dep}
    COMMENT "SPIR-V ${name}"
    VERBATIM)
  set(${out_var} ${spv} PARENT_SCOPE)
endfunction()

# tern_embed_shaders(TARGET dir): builds every dir/*.comp (with variants) into a static
# library TARGET exposing tern::gpu::find_shader().
function(tern_embed_shaders target dir)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.comp)
  set(spvs "")
  set(names "")
  foreach(src ${sources})
    get_filename_component(base ${src} NAME_WE)
    # @variant lines are read at configure time: editing a shader re-runs cmake.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
    file(STRINGS ${src} variant_lines REGEX "^// *@variant ")
    if(variant_lines)
      foreach(line ${variant_lines})
        string(REGEX REPLACE "^// *@variant +" "" line "${line}")
        string(REGEX REPLACE " +" ";" parts "${line}")
        list(POP_FRONT parts vname)
        tern_compile_shader(spv ${vname} ${src} "${parts}")
        list(APPEND spvs ${spv})
        list(APPEND names ${vname})
      endforeach()
    else()
      tern_compile_shader(spv ${base} ${src} "")
      list(APPEND spvs ${spv})
      list(APPEND names ${base})
    endif()
  endforeach()
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/embedded_shaders.cpp)
  add_custom_command(
    OUTPUT ${gen}
    COMMAND ${CMAKE_COMMAND} -DOUT=${gen} "-DNAMES=${names}" "-DFILES=${spvs}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_spirv.cmake
    DEPENDS ${spvs} ${PROJECT_SOURCE_DIR}/cmake/embed_spirv.cmake
    COMMENT "Embedding SPIR-V"
    VERBATIM)
  add_library(${target} STATIC ${gen})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/runtime)
endfunction()

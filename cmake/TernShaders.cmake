# Compiles shaders/*.comp to SPIR-V, validates each module with spirv-val, and embeds
# them all into one generated C++ source, so nothing is read from disk at run time. The
# generator (cmake/shader_table.py) also writes gpu/shader_ids.h: an enum gpu::ShaderId with
# one id per module and each module's interface (storage buffers, push-constant bytes) read
# from its SPIR-V, so ops name shaders by id and a misspelt shader, or push constants of the
# wrong size, fail the build (runtime/gpu/shader_id.h).
#
# A shader may declare variants in comment lines of the form
#   // @variant NAME DEFINE[=VALUE] ...
# each of which compiles the same source with those defines under NAME.
# A shader with no @variant line compiles once, under its file name.

find_program(TERN_GLSLC glslc)
find_program(TERN_GLSLANG glslangValidator)
find_program(TERN_SPIRV_VAL spirv-val REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
if(NOT TERN_GLSLC AND NOT TERN_GLSLANG)
  message(FATAL_ERROR "Tern needs glslc (Debian: glslc) or glslangValidator (glslang-tools)")
endif()

set(TERN_SPIRV_ENV vulkan1.1)

# Compiles one module: NAME.spv (optimised, embedded) and NAME.iface.spv (unoptimised, read
# for the interface only: the optimiser drops bindings a variant never touches). Sets out_var
# to "NAME=NAME.spv=NAME.iface.spv", the generator's argument.
function(tern_compile_shader out_var name src defines)
  set(spv ${CMAKE_CURRENT_BINARY_DIR}/spv/${name}.spv)
  set(iface ${CMAKE_CURRENT_BINARY_DIR}/spv/${name}.iface.spv)
  set(dep ${CMAKE_CURRENT_BINARY_DIR}/spv/${name}.d)
  set(def_args "")
  foreach(d ${defines})
    list(APPEND def_args "-D${d}")
  endforeach()
  if(TERN_GLSLC)
    set(cmd ${TERN_GLSLC} --target-env=${TERN_SPIRV_ENV} -O -Werror -I${CMAKE_CURRENT_SOURCE_DIR}
        ${def_args} -MD -MF ${dep} -o ${spv} ${src})
    set(icmd ${TERN_GLSLC} --target-env=${TERN_SPIRV_ENV} -O0 -I${CMAKE_CURRENT_SOURCE_DIR}
        ${def_args} -o ${iface} ${src})
  else()
    set(cmd ${TERN_GLSLANG} -V --target-env ${TERN_SPIRV_ENV} -I${CMAKE_CURRENT_SOURCE_DIR}
        ${def_args} --depfile ${dep} -o ${spv} ${src})
    set(icmd ${CMAKE_COMMAND} -E copy ${spv} ${iface})  # glslangValidator does not optimise
  endif()
  add_custom_command(
    OUTPUT ${spv} ${iface}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/spv
    COMMAND ${cmd}
    COMMAND ${TERN_SPIRV_VAL} --target-env ${TERN_SPIRV_ENV} ${spv}
    COMMAND ${icmd}
    DEPENDS ${src}
    DEPFILE ${dep}
    COMMENT "SPIR-V ${name}"
    VERBATIM)
  set(${out_var} "${name}=${spv}=${iface}" PARENT_SCOPE)
endfunction()

# SPIR-V is the same bytes for every target, so a cross build may take another build's instead
# of compiling its 88 modules again (about 95 CPU-s each for the Windows and arm64 builds, which
# CI runs after the native one): TERN_SPIRV_FROM names that build's shaders/ folder. Its shader
# sources must be these (a digest of shaders/, the generator and this file, checked here).
set(TERN_SPIRV_FROM "" CACHE PATH "Another Tern build's shaders/ folder whose SPIR-V this build embeds instead of compiling its own")

# tern_shader_digest(out dir): SHA-256 over every file the SPIR-V and the table come from.
function(tern_shader_digest out dir)
  file(GLOB_RECURSE files ${dir}/*.comp ${dir}/*.glsl)
  list(SORT files)
  list(APPEND files ${PROJECT_SOURCE_DIR}/cmake/shader_table.py ${PROJECT_SOURCE_DIR}/cmake/TernShaders.cmake)
  set(all "")
  foreach(f ${files})
    file(SHA256 ${f} h)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${f})
    string(APPEND all "${rel} ${h}\n")
  endforeach()
  string(SHA256 digest "${all}")
  set(${out} ${digest} PARENT_SCOPE)
endfunction()

# tern_embed_shaders(TARGET dir): builds every dir/*.comp (with variants) into a static
# library TARGET exposing tern::gpu::embedded_shader() and the generated gpu/shader_ids.h.
function(tern_embed_shaders target dir)
  tern_shader_digest(digest ${dir})
  set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/generated)
  set(header ${gen_dir}/gpu/shader_ids.h)
  set(source ${CMAKE_CURRENT_BINARY_DIR}/embedded_shaders.cpp)
  if(TERN_SPIRV_FROM)
    set(from_digest "")
    if(EXISTS ${TERN_SPIRV_FROM}/shader-sources.sha256)
      file(READ ${TERN_SPIRV_FROM}/shader-sources.sha256 from_digest)
      string(STRIP "${from_digest}" from_digest)
    endif()
    if(NOT from_digest STREQUAL digest OR NOT EXISTS ${TERN_SPIRV_FROM}/embedded_shaders.cpp
       OR NOT EXISTS ${TERN_SPIRV_FROM}/generated/gpu/shader_ids.h)
      message(FATAL_ERROR "TERN_SPIRV_FROM=${TERN_SPIRV_FROM} is not a built shaders/ folder of these shader "
                          "sources (its digest '${from_digest}', these '${digest}')")
    endif()
    add_custom_command(
      OUTPUT ${header} ${source}
      COMMAND ${CMAKE_COMMAND} -E copy ${TERN_SPIRV_FROM}/generated/gpu/shader_ids.h ${header}
      COMMAND ${CMAKE_COMMAND} -E copy ${TERN_SPIRV_FROM}/embedded_shaders.cpp ${source}
      DEPENDS ${TERN_SPIRV_FROM}/generated/gpu/shader_ids.h ${TERN_SPIRV_FROM}/embedded_shaders.cpp
      COMMENT "Shader table and embedded SPIR-V from ${TERN_SPIRV_FROM}"
      VERBATIM)
    tern_shader_library(${target} ${gen_dir} ${header} ${source})
    return()
  endif()
  file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/shader-sources.sha256 CONTENT "${digest}\n")  # written when it changes
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.comp)
  set(modules "")
  set(outputs "")
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
        tern_compile_shader(m ${vname} ${src} "${parts}")
        list(APPEND modules ${m})
      endforeach()
    else()
      tern_compile_shader(m ${base} ${src} "")
      list(APPEND modules ${m})
    endif()
  endforeach()
  foreach(m ${modules})
    string(REPLACE "=" ";" parts "${m}")
    list(POP_FRONT parts unused)
    list(APPEND outputs ${parts})
  endforeach()
  add_custom_command(
    OUTPUT ${header} ${source}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${gen_dir}/gpu
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/cmake/shader_table.py ${header} ${source} ${modules}
    DEPENDS ${outputs} ${PROJECT_SOURCE_DIR}/cmake/shader_table.py
    COMMENT "Shader table (gpu/shader_ids.h) and embedded SPIR-V"
    VERBATIM)
  tern_shader_library(${target} ${gen_dir} ${header} ${source})
endfunction()

function(tern_shader_library target gen_dir header source)
  add_library(${target} STATIC ${source} ${header})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/runtime ${gen_dir})
  target_link_libraries(${target} PUBLIC tern_common)  # gpu/shader_id.h throws common/error.h's Error
endfunction()

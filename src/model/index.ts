// Public surface of src/model: the tiny Gemma 3 builder behind `gemma-bench make-model`, its config, and
// the onnx-community layout checks the onnx backend runs on any model directory.
export { buildTinyModel, labelFor, RANDOM_WEIGHTS_LABEL_SUFFIX, SAFETENSORS_FILE, type BuildOptions, type ModelManifest } from './build-tiny.js';
export { BUILDER_VERSION, isGlobalLayer, layerTypes, resolveConfig, TINY_CONFIG, type TinyConfigOverride, type TinyGemma3Config, type TinyTextConfig, type TinyVisionConfig } from './tiny-config.js';
export {
  checkModelLayout,
  expectedIo,
  GRAPH_NAMES,
  inferNumLayers,
  locateGraphFiles,
  readModelDirConfig,
  REQUIRED_IO,
  type ExpectedIo,
  type GraphIoInfo,
  type GraphName,
  type LayoutCheckOptions,
  type ModelDirConfig,
} from './layout.js';

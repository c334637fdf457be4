// A minimal node entry script: `init` runs once per replica, `run` once per request.
// Serve it:  berth serve --model-dir examples/models/iris --ic examples/echo/inferenceconfig.json
// Call it:   curl -s -X POST localhost:5001/score -H 'Content-Type: application/json' -d '{"data": [[1, 2]]}'

export const schema = {
  input: { data: [[5.1, 3.5, 1.4, 0.2]] },
  output: { data: [[5.1, 3.5, 1.4, 0.2]], modelFile: 'model.onnx' },
};

let modelFile = '';

export async function init(ctx) {
  // ctx.modelPath(name, version?) finds a served model's file (or folder)
  modelFile = ctx.models.length > 0 ? ctx.modelPath(ctx.models[0].name) : '';
  ctx.log.info({ modelFile }, 'echo entry script ready');
}

export async function run(input) {
  return { ...input, modelFile: modelFile.split('/').pop() };
}

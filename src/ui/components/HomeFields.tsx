// The home screen's form fields: images (checked as typed), the backend choice, the openai backend's endpoints
// (checked as typed, the message under the field), the model and the overrides of the preset's numbers. Draws
// the form's state; the keys are handled by the screen (home-form.ts).
import { Box, Text } from 'ink';
import type { BackendOption } from '../app-port.js';
import { truncate } from '../cells.js';
import type { Preset } from '../../config/preset-schema.js';
import { OPENAI_BACKEND } from '../endpoints.js';
import { endpointsNote, imagesNote, modelHint, type Field, type HomeForm, type ImagesValidation } from '../home-form.js';
import { FIELD_LABEL_COLUMNS, type HomeLayout } from '../home-layout.js';
import { TextField } from './TextField.js';

type Props = {
  readonly form: HomeForm;
  /** The selected preset (its numbers are the placeholders), or null. */
  readonly preset: Preset | null;
  readonly backends: readonly BackendOption[];
  readonly validation: ImagesValidation;
  readonly describeModel: (model: string) => string;
  readonly layout: HomeLayout;
};

export function HomeFields({ form, preset: p, backends, validation, describeModel, layout }: Props) {
  const on = (f: Field) => form.focus === f;
  const images = imagesNote(form.images, validation);
  const model = modelHint(form.backend, form.model, describeModel);
  return (
    <Box flexDirection="column" marginTop={1}>
      <TextField label="Images" value={form.images} placeholder="synthetic" focused={on('images')} note={images.text} noteColor={images.color} />
      <BackendChoice backends={backends} backend={form.backend} focused={on('backend')} />
      {form.backend === OPENAI_BACKEND ? <EndpointsField value={form.endpoints} focused={on('endpoints')} layout={layout} /> : null}
      <TextField label="Model" value={form.model} placeholder={model.placeholder} focused={on('model')} note={model.note.text} noteColor={model.note.color} />
      <TextField label="Requests" value={form.nums.requests} placeholder={p ? `${p.load.requests ?? (p.load.durationS !== undefined ? `${p.load.durationS} s` : 32)} (preset)` : ''} focused={on('requests')} note="measured requests" />
      <TextField label="Warmup" value={form.nums.warmup} placeholder={p ? `${p.load.warmup} (preset)` : ''} focused={on('warmup')} note="excluded from the statistics" />
      <TextField label="New tokens" value={form.nums.maxNewTokens} placeholder={p ? `${p.generation.maxNewTokens} (preset)` : ''} focused={on('maxNewTokens')} note="generated per request" />
    </Box>
  );
}

function BackendChoice({ backends, backend, focused }: { readonly backends: readonly BackendOption[]; readonly backend: string; readonly focused: boolean }) {
  return (
    <Box>
      <Text color={focused ? 'cyan' : undefined} bold={focused}>
        {focused ? '▸ ' : '  '}
        {'Backend'.padEnd(12)}
      </Text>
      {backends.map((b) => (
        <Text key={b.name} color={!b.available ? 'gray' : b.name === backend ? 'cyan' : undefined} bold={b.name === backend}>
          {b.name === backend ? '(●) ' : '( ) '}
          {b.name}
          {b.available ? '' : ` (unavailable: ${truncate(b.note, 40)})`}
          {'  '}
        </Text>
      ))}
    </Box>
  );
}

/** The server URLs of the openai backend; what their check says goes on the line under the field. */
function EndpointsField({ value, focused, layout }: { readonly value: string; readonly focused: boolean; readonly layout: HomeLayout }) {
  const note = endpointsNote(value, layout.endpointsNoteColumns);
  return (
    <Box flexDirection="column">
      <TextField label="Endpoints" value={value} placeholder="server URLs" focused={focused} valueColumns={layout.endpointsValueColumns} />
      <Text color={note.color}>
        {' '.repeat(FIELD_LABEL_COLUMNS)}
        {note.text}
      </Text>
    </Box>
  );
}

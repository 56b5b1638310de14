// The home screen: pick a preset (built-in and the user's own, each with its key settings), the images (built-in
// synthetic set, or a typed path or glob validated as you type through the controller, debounced), the backend
// (with the openai backend, the server endpoints) and model, optional overrides (requests, warmup, new tokens);
// Enter starts the run, s saves the settings as a user preset. All I/O goes through the callbacks. What each key
// does is home-form.ts's reducer; the parts are drawn by PresetList, HomeFields and SavePresetPrompt.
import { Box, Text } from 'ink';
import { truncate } from '../cells.js';
import { homeHints, selectedPreset, shownMessage } from '../home-form.js';
import { homeLayout } from '../home-layout.js';
import { useTerminalSize } from '../terminal-size.js';
import { useHomeForm, type HomeFormOptions } from '../use-home-form.js';
import { HomeFields } from './HomeFields.js';
import { KeyHints } from './KeyHints.js';
import { PresetList } from './PresetList.js';
import { SavePresetPrompt } from './SavePresetPrompt.js';

export { IMAGES_VALIDATE_DEBOUNCE_MS } from '../use-home-form.js';
export { PRESET_ROWS_MAX } from '../home-layout.js';

type Props = HomeFormOptions & {
  readonly describeModel: (model: string) => string;
  /** Terminal columns and rows to lay out for (default: the terminal's own). */
  readonly width?: number;
  readonly height?: number;
};

export function HomeScreen(props: Props) {
  const { presets, backends } = props;
  const { form, validation, ctx } = useHomeForm(props);
  const message = shownMessage(form, ctx);
  const size = useTerminalSize({ ...(props.width !== undefined ? { columns: props.width } : {}), ...(props.height !== undefined ? { rows: props.height } : {}) });
  const layout = homeLayout(size.columns, size.rows, presets.length);
  const p = selectedPreset(form, presets)?.preset ?? null;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color="cyan">gemma-bench</Text> <Text dimColor>{truncate('· Gemma 3 vision-language inference with pan-and-scan · new run', size.columns - 12)}</Text>
      </Text>
      <PresetList presets={presets} sel={form.sel} focused={form.focus === 'preset'} description={p?.description || null} layout={layout} runsOn={backends.find((b) => b.name === form.backend)?.runsOn} />
      <HomeFields form={form} preset={p} backends={backends} validation={validation} describeModel={props.describeModel} layout={layout} />
      {form.saving ? <SavePresetPrompt name={form.saving.name} busy={form.saving.busy} /> : null}
      {props.blocker && !message?.problem ? (
        <Box marginTop={1}>
          <Text color="red">✖ {truncate(props.blocker, layout.messageColumns)}</Text>
        </Box>
      ) : null}
      {message ? (
        <Box marginTop={1}>
          <Text color={message.color}>{truncate(message.text, layout.messageColumns)}</Text>
        </Box>
      ) : null}
      <KeyHints hints={homeHints(form)} />
    </Box>
  );
}

import { render } from 'preact';
import '../shared/styles.css';
import { applyStoredTheme } from '../shared/theme';
import { App } from './App';

applyStoredTheme();
render(<App />, document.getElementById('app')!);

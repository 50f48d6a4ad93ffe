
import django.db.models.deletion
from django.db import migrations, models



def tags_as_counted(apps, schema_editor):
    """Record the tags the counts hold now, so the first change of an existing case takes out what it put in."""
    CaseNorm, CaseFact, CaseTagFact = (apps.get_model("cases", name) for name in ("CaseNorm", "CaseFact", "CaseTagFact"))
    counted = CaseNorm.objects.filter(status__in=["confirmed", "suggested"], case__merged_into__isnull=True, case_id__in=CaseFact.objects.values("case_id"))
    CaseTagFact.objects.bulk_create(
        (CaseTagFact(case_id=case_id, norm_id=norm_id, tag_status=status) for case_id, norm_id, status in counted.values_list("case_id", "norm_id", "status")),
        batch_size=5000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0011_measurements'),
        ('cms', '0004_norm_measuring_and_report_page'),
    ]

    operations = [
        migrations.CreateModel(
            name='AggregatePending',
            fields=[
                ('case_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('since', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'zaak die nog geteld moet worden',
                'verbose_name_plural': 'zaken die nog geteld moeten worden',
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='CaseTagFact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tag_status', models.CharField(max_length=10)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.case')),
                ('norm', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cms.servicenorm')),
            ],
            options={
                'verbose_name': 'normlabel van een zaak (afgeleid)',
                'verbose_name_plural': 'normlabels van zaken (afgeleid)',
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('case', 'norm'), name='one_tag_fact_per_case_and_norm')],
            },
        ),
        migrations.RunPython(tags_as_counted, migrations.RunPython.noop),
    ]
